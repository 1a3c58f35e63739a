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

// TestHashScenariosBracketed checks that logins and sign-ups are compared
// with the mean of the argon2id measurements on either side of them.
func TestHashScenariosBracketed(t *testing.T) {
	b := &bench{cfg: config{rounds: 1}, results: []result{
		{Scenario: "argon2id", Round: 1, RPS: 50},
		{Scenario: "login", Round: 1, RPS: 36}, // 90% of (50+30)/2; 72% of the 50 before
		{Scenario: "argon2id", Round: 1, RPS: 30},
		{Scenario: "signup", Round: 1, RPS: 27}, // 90% of (30+30)/2
		{Scenario: "argon2id", Round: 1, RPS: 30},
		{Scenario: "argon2id", Round: 2, RPS: 1000}, // another round: not a neighbour
	}}
	b.judge()
	want := map[string]string{
		"login/s >= 90% of raw argon2id":  "90.0%",
		"signup/s >= 90% of raw argon2id": "90.0%",
	}
	for _, c := range b.checks {
		if w, ok := want[c.Target]; ok {
			if c.Value != w || !c.Pass {
				t.Errorf("%s: %s, pass %v; want %s, pass", c.Target, c.Value, c.Pass, w)
			}
			delete(want, c.Target)
		}
	}
	for target := range want {
		t.Errorf("no check for %q", target)
	}
	if got := b.versus(1); got != "90% of argon2id" {
		t.Errorf("versus(login) = %q; want %q", got, "90% of argon2id")
	}

	// A measurement on one side only is the reference alone.
	one := &bench{cfg: config{rounds: 1}, results: []result{
		{Scenario: "login", Round: 1, RPS: 27},
		{Scenario: "argon2id", Round: 1, RPS: 30},
	}}
	one.judge()
	if len(one.checks) != 1 || one.checks[0].Value != "90.0%" {
		t.Errorf("one side: checks = %+v; want one check of 90%%", one.checks)
	}
}

// TestRoundOrder checks that raw argon2id is measured again after logins
// and sign-ups, and only when it is among the scenarios.
func TestRoundOrder(t *testing.T) {
	for _, tt := range []struct{ scenarios, want string }{
		{"argon2,login,signup,storm", "argon2,login,argon2,signup,argon2,storm"},
		{"ref-hello,home,argon2,signup", "ref-hello,home,argon2,signup,argon2"},
		{"login,signup", "login,signup"},
	} {
		b := &bench{cfg: config{scenarios: strings.Split(tt.scenarios, ",")}}
		if got := strings.Join(b.roundOrder(), ","); got != tt.want {
			t.Errorf("roundOrder(%s) = %s; want %s", tt.scenarios, got, tt.want)
		}
	}
}
