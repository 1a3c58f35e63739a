package main

import (
	"strings"
	"testing"
)

// TestJudgeRounds checks that targets are judged on the median round for
// speed and on the worst round for memory, with every round's results
// compared to the reference of the same round.
func TestJudgeRounds(t *testing.T) {
	b := &bench{cfg: config{rounds: 3}}
	for round, rps := range map[int][2]float64{
		// ref-hello, home: 50%, 80%, 75% of the reference.
		1: {1000, 500},
		2: {1000, 800},
		3: {2000, 1500},
	} {
		b.results = append(b.results,
			result{Scenario: "ref-hello", Round: round, RPS: rps[0]},
			result{Scenario: "home", Round: round, RPS: rps[1]},
			result{Scenario: "ref-hmac", Round: round, RPS: 100, P99: 1},
			result{Scenario: "profile", Round: round, RPS: 60, P99: 1, PeakRSS: int64(round) * 30_000_000},
		)
	}
	b.judge()
	got := map[string]check{}
	for _, c := range b.checks {
		got[c.Target] = c
	}
	home := got["home req/s >= 70% of ref-hello"]
	if !home.Pass || !strings.HasPrefix(home.Value, "75.0% (median of 3 rounds: 50.0% to 80.0%)") {
		t.Errorf("home check = %+v; want a pass on the median, 75%%, with the range 50%% to 80%%", home)
	}
	rss := got["profile peak RSS < 64.0 MB"]
	if rss.Pass || !strings.HasPrefix(rss.Value, "90.0 MB (worst of 3 rounds") {
		t.Errorf("RSS check = %+v; want a failure on the worst round, 90 MB", rss)
	}

	// One round: the value alone.
	one := &bench{cfg: config{rounds: 1}, results: []result{
		{Scenario: "ref-hello", Round: 1, RPS: 1000},
		{Scenario: "home", Round: 1, RPS: 650},
	}}
	one.judge()
	if len(one.checks) != 1 || one.checks[0].Value != "65.0%" || one.checks[0].Pass {
		t.Errorf("one round: checks = %+v; want one failing check of 65%%", one.checks)
	}
}
