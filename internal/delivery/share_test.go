package delivery

import (
	"fmt"
	"testing"
)

// TestShareSplitsTheCapExactly: across every rank the shares add up to
// the cap, no process gets more than one above another, and webhooks with
// a cap below the process count land on different processes.
func TestShareSplitsTheCapExactly(t *testing.T) {
	for _, count := range []int{1, 2, 3, 5} {
		for _, maxInFlight := range []int{1, 2, 3, 4, 10, 11} {
			for _, webhook := range []string{"wh_a", "wh_b", "wh_c"} {
				sum, lo, hi := 0, maxInFlight, 0
				for rank := range count {
					e := &Engine{cfg: EngineConfig{Share: func() (int, int) { return rank, count }}}
					n := e.share(webhook, maxInFlight)
					sum += n
					lo, hi = min(lo, n), max(hi, n)
				}
				if sum != maxInFlight || hi-lo > 1 {
					t.Errorf("cap %d over %d processes for %s: shares sum to %d, spread %d..%d", maxInFlight, count, webhook, sum, lo, hi)
				}
			}
		}
	}
	// Caps of 1 on three processes: spread by webhook, not all on rank 0.
	owners := map[int]bool{}
	for i := range 30 {
		for rank := range 3 {
			e := &Engine{cfg: EngineConfig{Share: func() (int, int) { return rank, 3 }}}
			if e.share(fmt.Sprintf("wh_%d", i), 1) == 1 {
				owners[rank] = true
			}
		}
	}
	if len(owners) != 3 {
		t.Errorf("30 webhooks with a cap of 1 went to ranks %v, want all three", owners)
	}
}
