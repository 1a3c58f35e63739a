package pgstore

import (
	"context"

	"github.com/jackc/pgx/v5"
)

// ChannelName is channelName, for tests that listen to a store's
// notifications.
var ChannelName = channelName

// PruneQuery is pruneQuery, for tests of its plan.
const PruneQuery = pruneQuery

// SynchronousCommit returns synchronous_commit as the write of a batch that
// starts with relaxNote sees it, and as a plain query sees it after.
func (db *DB) SynchronousCommit(ctx context.Context) (relaxed, after string, err error) {
	_, err = db.change(ctx, []note{relaxNote}, func(row pgx.Row) error { return row.Scan(&relaxed) }, `SHOW synchronous_commit`)
	if err != nil {
		return "", "", err
	}
	err = db.pool.QueryRow(ctx, `SHOW synchronous_commit`).Scan(&after)
	return relaxed, after, err
}
