// Package redisstore keeps latch's login failure counts in Redis, for
// applications running several instances that must throttle together.
//
// A [Store] implements [throttle.Store] with github.com/redis/go-redis/v9.
// Each key is a Redis hash under [Store.Prefix] holding the count and the
// time of the last failure. [Store.AddFailure] and [Store.SwapFailures] each
// run as one Lua script, which adds a failure or compares and sets both
// fields, so concurrent attempts from any number of instances are counted
// exactly; each also sets the hash to expire when the forget window of the
// call has passed since the last failure, so Redis
// drops stale counts by itself and memory stays bounded however many
// addresses try. The expiry is an instant on the application's clock,
// rounded up to the millisecond and enforced by Redis's: keep the clocks in
// step, as a Redis clock running ahead forgets counts early.
//
// Only failure counts live in Redis. Sessions and accounts stay in the
// application's database, so nothing here can let anyone in.
//
// # When Redis restarts or is unreachable
//
// Without persistence (RDB snapshots or the AOF), a restart of Redis loses
// every count. The limiter then starts afresh: an attacker gets a new
// allowance of free attempts and delays, as after the forget window. That is
// the whole risk. Losing counts never logs anyone in, since a password is
// still checked on every attempt, and it cannot bring back a revoked session,
// since sessions are not in Redis. Persistence narrows the window; for the
// same reason an eviction policy that drops keys early (allkeys-lru and the
// like) only weakens throttling, and noeviction on an instance of its own
// avoids even that.
//
// While Redis is unreachable, every call returns an error, after the dial or
// read timeout of the URL (by default five and three seconds) or the
// caller's deadline, whichever comes first. latch's login then fails with
// that error rather than going on unthrottled. The client reconnects by
// itself once Redis answers again.
package redisstore
