package redisstore

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"time"

	"github.com/latchauth/latch/throttle"
	"github.com/redis/go-redis/v9"
)

var _ throttle.Store = (*Store)(nil)

// DefaultPrefix is the default [Store.Prefix].
const DefaultPrefix = "latch:throttle:"

// Store is a [throttle.Store] in Redis. It is safe for concurrent use.
// Create one with [Open] and release it with [Store.Close].
type Store struct {
	// Prefix comes before every key in Redis, so that latch's counts stay
	// apart from other data in the same database. Default DefaultPrefix.
	// Instances that throttle together must agree on it; change it only
	// before first use.
	Prefix string

	client *redis.Client
}

// Open connects to the Redis server at the redis:// or rediss:// URL rawURL,
// as understood by redis.ParseURL, for example
//
//	redis://:password@redis.example.com:6379/0?dial_timeout=2s
//
// and checks that it answers. The connections are named "latch" in CLIENT
// LIST unless the URL sets client_name.
func Open(ctx context.Context, rawURL string) (*Store, error) {
	opt, err := redis.ParseURL(rawURL)
	if ue := (*url.Error)(nil); errors.As(err, &ue) {
		// The whole of url.Parse's error would repeat the URL, password
		// and all.
		return nil, fmt.Errorf("redisstore: open: bad URL: %w", ue.Err)
	} else if err != nil {
		// ParseURL's own errors name the faulty part only.
		return nil, fmt.Errorf("redisstore: open: %w", err)
	}
	if opt.ClientName == "" {
		// Names the connections in CLIENT LIST.
		opt.ClientName = "latch"
	}
	c := redis.NewClient(opt)
	if err := c.Ping(ctx).Err(); err != nil {
		c.Close()
		return nil, fmt.Errorf("redisstore: open %s (database %d): check the address in the URL, and that the Redis server is running and reachable there: %w",
			opt.Addr, opt.DB, err)
	}
	return &Store{Prefix: DefaultPrefix, client: c}, nil
}

// Close closes the connections.
func (s *Store) Close() error {
	if err := s.client.Close(); err != nil {
		return fmt.Errorf("redisstore: close: %w", err)
	}
	return nil
}

// Ping checks that Redis answers, for a health check.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.client.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("redisstore: ping: %w", err)
	}
	return nil
}

// Fields of a key's hash.
const (
	fieldFailures = "failures"
	fieldLast     = "last" // microseconds since the Unix epoch
)

// addFailure counts one failure of KEYS[1] at ARGV[1] (microseconds since
// the Unix epoch), starting again from one when the last failure is at or
// before ARGV[2], as in [throttle.MemoryStore], and lets the key expire
// ARGV[3] milliseconds later. Redis runs a script without interleaving
// other commands, so it is atomic. Times go in and out as strings: Lua would
// print large numbers in exponent form and lose digits.
var addFailure = redis.NewScript(`
local last = redis.call('HGET', KEYS[1], 'last')
local n = 1
if last and tonumber(last) > tonumber(ARGV[2]) then
	n = redis.call('HINCRBY', KEYS[1], 'failures', 1)
else
	redis.call('HSET', KEYS[1], 'failures', 1)
end
redis.call('HSET', KEYS[1], 'last', ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return n
`)

// swapFailures sets the count and time of KEYS[1] to ARGV[3] and ARGV[4] if
// they are still ARGV[1] and ARGV[2], the empty string standing for a key
// without a record, and reports 1 if it did, 0 if not. A new count of 0
// deletes the key; any other lets it expire at ARGV[5] (milliseconds since
// the Unix epoch). Redis runs a script without interleaving other commands,
// so the swap is atomic. Counts and times (microseconds since the Unix
// epoch) go in and out as the strings stored, and are compared as such: Lua
// would print large numbers in exponent form and lose digits.
var swapFailures = redis.NewScript(`
local cur = redis.call('HMGET', KEYS[1], 'failures', 'last')
local n, last = cur[1], cur[2]
if not n or not last then
	-- As Failures reads it: no record.
	n, last = '', ''
end
if n ~= ARGV[1] or last ~= ARGV[2] then
	return 0
end
if ARGV[3] == '0' then
	redis.call('DEL', KEYS[1])
else
	redis.call('HSET', KEYS[1], 'failures', ARGV[3], 'last', ARGV[4])
	redis.call('PEXPIREAT', KEYS[1], ARGV[5])
end
return 1
`)

// Failures implements [throttle.Store].
func (s *Store) Failures(ctx context.Context, key string) (throttle.State, error) {
	vals, err := s.client.HMGet(ctx, s.Prefix+key, fieldFailures, fieldLast).Result()
	if err != nil {
		return throttle.State{}, fmt.Errorf("redisstore: failures: %w", err)
	}
	n, nok := vals[0].(string)
	last, lok := vals[1].(string)
	if !nok || !lok {
		// No such key: it expired, was reset or never failed.
		return throttle.State{}, nil
	}
	failures, err := strconv.Atoi(n)
	if err != nil {
		return throttle.State{}, fmt.Errorf("redisstore: failures: bad count %q", n)
	}
	us, err := strconv.ParseInt(last, 10, 64)
	if err != nil {
		return throttle.State{}, fmt.Errorf("redisstore: failures: bad time %q", last)
	}
	return throttle.State{Failures: failures, LastFailure: time.UnixMicro(us).UTC()}, nil
}

// AddFailure implements [throttle.Store]. The key expires forget after the
// failure, by Redis's clock: Redis drops it on its own, and the next failure
// would have started again from one anyway.
func (s *Store) AddFailure(ctx context.Context, key string, now time.Time, forget time.Duration) (throttle.State, error) {
	us := now.UnixMicro()
	// PEXPIRE 0 would delete the key at once; keep it at least a
	// millisecond.
	ttl := max((forget+time.Millisecond-1)/time.Millisecond, 1)
	n, err := addFailure.Run(ctx, s.client, []string{s.Prefix + key},
		strconv.FormatInt(us, 10),
		strconv.FormatInt(now.Add(-forget).UnixMicro(), 10),
		strconv.FormatInt(int64(ttl), 10),
	).Int()
	if err != nil {
		return throttle.State{}, fmt.Errorf("redisstore: add failure: %w", err)
	}
	return throttle.State{Failures: n, LastFailure: time.UnixMicro(us).UTC()}, nil
}

// SwapFailures implements [throttle.Store]. The key expires once forget has
// passed since the new state's last failure (at once if that is already
// past): Redis drops it on its own, and a failure after that would have
// started again from one anyway. The expiry follows the last failure, not
// the swap, so that giving back an attempt's failure does not keep the
// failures before it for longer.
func (s *Store) SwapFailures(ctx context.Context, key string, old, new throttle.State, forget time.Duration) (bool, error) {
	oldN, oldLast := "", "" // no record
	if old.Failures != 0 {
		oldN, oldLast = strconv.Itoa(old.Failures), strconv.FormatInt(old.LastFailure.UnixMicro(), 10)
	}
	// The first whole millisecond at or after the end of the window, never
	// before it; a window of at least a millisecond, so that a zero forget
	// does not expire the key as it is written.
	end := new.LastFailure.Add(max(forget, time.Millisecond))
	at := end.UnixMilli()
	if end.After(time.UnixMilli(at)) {
		at++
	}
	n, err := swapFailures.Run(ctx, s.client, []string{s.Prefix + key},
		oldN, oldLast,
		strconv.Itoa(new.Failures), strconv.FormatInt(new.LastFailure.UnixMicro(), 10),
		strconv.FormatInt(at, 10),
	).Int()
	if err != nil {
		return false, fmt.Errorf("redisstore: swap failures: %w", err)
	}
	return n == 1, nil
}

// ResetFailures implements [throttle.Store].
func (s *Store) ResetFailures(ctx context.Context, key string) error {
	if err := s.client.Del(ctx, s.Prefix+key).Err(); err != nil {
		return fmt.Errorf("redisstore: reset failures: %w", err)
	}
	return nil
}
