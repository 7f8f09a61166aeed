package cms

import (
	"context"
	"fmt"
)

// StatusCounts returns how many items of the tenant are in each status
// (draft, review, published, archived), every collection together; items
// in the trash are left out. A status no item has counts 0.
func (s *Store) StatusCounts(ctx context.Context) (map[string]int, error) {
	out := map[string]int{StatusDraft: 0, StatusReview: 0, StatusPublished: 0, StatusArchived: 0}
	rows, err := s.DB.Reader().QueryContext(ctx, "SELECT status, count(*) FROM content WHERE deleted_at IS NULL GROUP BY status")
	if err != nil {
		return nil, fmt.Errorf("count items by status: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var st string
		var n int
		if err := rows.Scan(&st, &n); err != nil {
			return nil, fmt.Errorf("count items by status: %w", err)
		}
		out[st] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("count items by status: %w", err)
	}
	return out, nil
}
