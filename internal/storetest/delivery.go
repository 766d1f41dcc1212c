package storetest

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/heraldhq/herald"
)

// deliveryTests are the conformance tests of publishing and delivering.
var deliveryTests = map[string]func(*testing.T, herald.Store){
	"PublishFansOutToMatchingActiveWebhooks": testPublishFansOut,
	"PublishIdempotencyKey":                  testPublishIdempotencyKey,
	"ClaimLeasesDueDeliveries":               testClaimLeasesDueDeliveries,
	"ResetLeases":                            testResetLeases,
	"ExtendLeases":                           testExtendLeases,
	"Purge":                                  testPurge,
	"Backlog":                                testBacklog,
	"RecordAttempts":                         testRecordAttempts,
	"ListDeliveriesFilters":                  testListDeliveriesFilters,
	"RetryAndRecover":                        testRetryAndRecover,
	"DeleteCancelsPendingDeliveries":         testDeleteCancelsPending,
	"GetEventIsTenantScoped":                 testGetEventIsTenantScoped,
	"AutoDisableAfterSpan":                   testAutoDisableAfterSpan,
	"AutoDisableOnGone":                      testAutoDisableOnGone,
}

var evSeq atomic.Int64

func publish(t *testing.T, s herald.Store, tenant, eventType, key string, at time.Time) herald.Published {
	t.Helper()
	id := fmt.Sprintf("evt_%s_%06d", tenant, evSeq.Add(1))
	body := fmt.Sprintf(`{"id":%q,"event":%q,"timestamp":%d,"data":{}}`, id, eventType, at.Unix())
	out, err := s.PublishEvents(context.Background(), []herald.PublishInput{{
		Event:          &herald.Event{ID: id, TenantID: tenant, Type: eventType, Payload: []byte(body), CreatedAt: at},
		IdempotencyKey: key,
	}}, at.Add(time.Minute))
	if err != nil {
		t.Fatalf("PublishEvents: %v", err)
	}
	return out[0]
}

func testPublishFansOut(t *testing.T, s herald.Store) {
	a := newWebhook("acme", 1) // template.completed, batch.*
	b := newWebhook("acme", 2)
	b.Events = []string{"*"}
	paused := newWebhook("acme", 3)
	paused.Active = false
	other := newWebhook("globex", 4)
	for _, w := range []*herald.Webhook{a, b, paused, other} {
		mustCreate(t, s, w)
	}
	p := publish(t, s, "acme", "batch.failed", "", t0)
	got := map[string]bool{}
	for _, j := range p.Deliveries {
		got[j.WebhookID] = true
		if string(j.Payload) != string(p.Event.Payload) || j.Attempts != 0 || j.EventID != p.Event.ID {
			t.Fatalf("job = %+v", j)
		}
	}
	if p.DeliveryCount != 2 || !got[a.ID] || !got[b.ID] {
		t.Fatalf("deliveries to %v, want %s and %s only", got, a.ID, b.ID)
	}
	if p := publish(t, s, "acme", "template.failed", "", t0); p.DeliveryCount != 1 || p.Deliveries[0].WebhookID != b.ID {
		t.Fatalf("template.failed went to %+v, want only %s", p.Deliveries, b.ID)
	}
}

func testPublishIdempotencyKey(t *testing.T, s herald.Store) {
	mustCreate(t, s, newWebhook("acme", 1))
	first := publish(t, s, "acme", "batch.failed", "k1", t0)
	again := publish(t, s, "acme", "batch.failed", "k1", t0.Add(time.Hour))
	if !again.Repeat || again.Event.ID != first.Event.ID || again.DeliveryCount != 1 || len(again.Deliveries) != 0 {
		t.Fatalf("repeat = %+v, want the first event %s and nothing new", again, first.Event.ID)
	}
	if other := publish(t, s, "globex", "batch.failed", "k1", t0); other.Repeat {
		t.Fatal("another tenant's key matched")
	}
	later := publish(t, s, "acme", "batch.failed", "k1", t0.Add(herald.IdempotencyTTL+time.Second))
	if later.Repeat || later.Event.ID == first.Event.ID {
		t.Fatalf("key reused after its TTL returned %+v, want a new event", later)
	}
}

func mustClaim(t *testing.T, s herald.Store, webhookID string, limit int, now time.Time) []*herald.Job {
	t.Helper()
	jobs, _, err := s.ClaimJobs(context.Background(), webhookID, limit, now, now.Add(time.Minute))
	if err != nil {
		t.Fatalf("ClaimJobs: %v", err)
	}
	return jobs
}

func testClaimLeasesDueDeliveries(t *testing.T, s herald.Store) {
	ctx := context.Background()
	w := mustCreate(t, s, newWebhook("acme", 1))
	var ids []string
	for i := range 5 {
		p := publish(t, s, "acme", "batch.failed", "", t0.Add(time.Duration(i)*time.Millisecond))
		ids = append(ids, p.Deliveries[0].DeliveryID)
	}
	now := t0.Add(time.Second)
	if jobs := mustClaim(t, s, w.ID, 10, now); len(jobs) != 0 {
		t.Fatalf("claimed %d deliveries still leased to the publisher", len(jobs))
	}
	if err := s.ReleaseJobs(ctx, ids[:3]); err != nil {
		t.Fatal(err)
	}
	jobs := mustClaim(t, s, w.ID, 2, now)
	if len(jobs) != 2 || jobs[0].DeliveryID != ids[0] || jobs[1].DeliveryID != ids[1] || string(jobs[0].Payload) == "" {
		t.Fatalf("claim = %+v, want the two oldest released deliveries with payloads", jobs)
	}
	if jobs := mustClaim(t, s, w.ID, 10, now); len(jobs) != 1 || jobs[0].DeliveryID != ids[2] {
		t.Fatalf("second claim = %+v, want only %s", jobs, ids[2])
	}
	// Leases run out: everything is claimable again.
	if jobs := mustClaim(t, s, w.ID, 10, now.Add(2*time.Minute)); len(jobs) != 5 {
		t.Fatalf("claim after leases ran out = %d jobs, want 5", len(jobs))
	}
}

// testExtendLeases: a running lease is extended; one that has already
// run out is not (another process may have the delivery now).
func testExtendLeases(t *testing.T, s herald.Store) {
	ctx := context.Background()
	w := mustCreate(t, s, newWebhook("acme", 1))
	held := publish(t, s, "acme", "batch.failed", "", t0).Deliveries[0].DeliveryID   // leased until t0+1m
	lapsed := publish(t, s, "acme", "batch.failed", "", t0).Deliveries[0].DeliveryID // leased until t0+1m
	if err := s.ExtendLeases(ctx, []string{held}, t0.Add(30*time.Second), t0.Add(3*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := s.ExtendLeases(ctx, []string{lapsed}, t0.Add(2*time.Minute), t0.Add(3*time.Minute)); err != nil {
		t.Fatal(err)
	}
	jobs := mustClaim(t, s, w.ID, 10, t0.Add(2*time.Minute))
	if len(jobs) != 1 || jobs[0].DeliveryID != lapsed {
		t.Fatalf("claim at t0+2m = %+v, want only the lapsed delivery %s", jobs, lapsed)
	}
	if jobs := mustClaim(t, s, w.ID, 10, t0.Add(3*time.Minute+time.Second)); len(jobs) != 2 {
		t.Fatalf("claim after every lease ran out = %d jobs, want both", len(jobs))
	}
	// Many ids at once (more than one statement's worth on SQLite).
	ids := make([]string, 1200)
	for i := range ids {
		ids[i] = fmt.Sprintf("dlv_none_%d", i)
	}
	ids[len(ids)-1] = held
	if err := s.ExtendLeases(ctx, ids, t0.Add(3*time.Minute+2*time.Second), t0.Add(10*time.Minute)); err != nil {
		t.Fatalf("ExtendLeases of %d ids: %v", len(ids), err)
	}
	if jobs := mustClaim(t, s, w.ID, 10, t0.Add(5*time.Minute)); len(jobs) != 1 || jobs[0].DeliveryID != lapsed {
		t.Fatalf("claim during the last extension = %+v, want only %s", jobs, lapsed)
	}
	if err := s.ReleaseJobs(ctx, ids); err != nil {
		t.Fatalf("ReleaseJobs of %d ids: %v", len(ids), err)
	}
	if jobs := mustClaim(t, s, w.ID, 10, t0.Add(5*time.Minute)); len(jobs) != 1 || jobs[0].DeliveryID != held {
		t.Fatalf("claim after release = %+v, want %s", jobs, held)
	}
}

func testResetLeases(t *testing.T, s herald.Store) {
	w := mustCreate(t, s, newWebhook("acme", 1))
	publish(t, s, "acme", "batch.failed", "", t0)
	if err := s.ResetLeases(context.Background()); err != nil {
		t.Fatal(err)
	}
	if jobs := mustClaim(t, s, w.ID, 10, t0); len(jobs) != 1 {
		t.Fatalf("claim after ResetLeases = %d jobs, want 1", len(jobs))
	}
}

func record(t *testing.T, s herald.Store, job *herald.Job, status herald.DeliveryStatus, code int, errText string, at, next time.Time) {
	t.Helper()
	err := s.RecordAttempts(context.Background(), []herald.AttemptResult{{
		Job:           job,
		Attempt:       herald.Attempt{AttemptedAt: at, StatusCode: code, Latency: 12 * time.Millisecond, Error: errText, ResponseBody: "oops"},
		Status:        status,
		NextAttemptAt: next,
	}})
	if err != nil {
		t.Fatalf("RecordAttempts: %v", err)
	}
}

func testRecordAttempts(t *testing.T, s herald.Store) {
	ctx := context.Background()
	w := mustCreate(t, s, newWebhook("acme", 1))
	job := publish(t, s, "acme", "batch.failed", "", t0).Deliveries[0]
	record(t, s, job, herald.DeliveryPending, 500, "endpoint answered HTTP 500", t0, t0.Add(time.Second))
	// A retry is not due before its time, and is due after; a claim
	// before it says when it will be.
	jobs, next, err := s.ClaimJobs(ctx, w.ID, 10, t0.Add(500*time.Millisecond), t0.Add(time.Minute))
	if err != nil || len(jobs) != 0 || !next.Equal(t0.Add(time.Second)) {
		t.Fatalf("early claim = %d jobs, next due %v, %v; want none, due %v", len(jobs), next, err, t0.Add(time.Second))
	}
	jobs = mustClaim(t, s, w.ID, 10, t0.Add(time.Second))
	if len(jobs) != 1 || jobs[0].Attempts != 1 {
		t.Fatalf("claim of the due retry = %+v, want one job after 1 attempt", jobs)
	}
	record(t, s, jobs[0], herald.DeliverySucceeded, 200, "", t0.Add(time.Second), time.Time{})

	list, _, err := s.ListDeliveries(ctx, "acme", w.ID, herald.DeliveryFilter{Limit: 10})
	if err != nil || len(list) != 1 {
		t.Fatalf("ListDeliveries = %v, %v", list, err)
	}
	d := list[0]
	if d.Status != herald.DeliverySucceeded || d.Attempts != 2 || d.LastStatusCode != 200 || len(d.AttemptLog) != 2 {
		t.Fatalf("delivery = %+v", d)
	}
	a1 := d.AttemptLog[0]
	if a1.N != 1 || a1.StatusCode != 500 || a1.Error != "endpoint answered HTTP 500" || a1.ResponseBody != "oops" ||
		a1.Latency != 12*time.Millisecond || !a1.AttemptedAt.Equal(t0) || d.EventType != "batch.failed" {
		t.Fatalf("first attempt = %+v", a1)
	}
	got, _ := s.GetWebhook(ctx, "acme", w.ID)
	if got.SuccessCount != 1 || got.ErrorCount != 1 || !got.LastUsedAt.Equal(t0.Add(time.Second)) {
		t.Fatalf("counters = %d/%d last %v", got.SuccessCount, got.ErrorCount, got.LastUsedAt)
	}
	st, _ := s.WebhookStats(ctx, "acme")
	if st.TotalDeliveries != 1 || st.SuccessfulDeliveries != 1 || st.FailedDeliveries != 0 {
		t.Fatalf("stats = %+v", st)
	}
}

func testListDeliveriesFilters(t *testing.T, s herald.Store) {
	ctx := context.Background()
	w := mustCreate(t, s, newWebhook("acme", 1))
	var jobs []*herald.Job
	for i := range 3 {
		jobs = append(jobs, publish(t, s, "acme", "batch.failed", "", t0.Add(time.Duration(i)*time.Second)).Deliveries[0])
	}
	record(t, s, jobs[0], herald.DeliveryFailed, 500, "endpoint answered HTTP 500", t0, time.Time{})
	list, total, err := s.ListDeliveries(ctx, "acme", w.ID, herald.DeliveryFilter{Status: herald.DeliveryPending, Limit: 1})
	if err != nil || total != 2 || len(list) != 1 || list[0].ID != jobs[2].DeliveryID {
		t.Fatalf("pending page = %v, total %d, %v; want the newest pending of 2", list, total, err)
	}
	if _, _, err := s.ListDeliveries(ctx, "globex", w.ID, herald.DeliveryFilter{Limit: 1}); herald.ErrorCodeOf(err) != herald.CodeNotFound {
		t.Fatalf("another tenant listed the deliveries: %v", err)
	}
}

func testRetryAndRecover(t *testing.T, s herald.Store) {
	ctx := context.Background()
	w := mustCreate(t, s, newWebhook("acme", 1))
	old := publish(t, s, "acme", "batch.failed", "", t0).Deliveries[0]
	recent := publish(t, s, "acme", "batch.failed", "", t0.Add(time.Hour)).Deliveries[0]
	record(t, s, old, herald.DeliveryFailed, 500, "x", t0, time.Time{})
	record(t, s, recent, herald.DeliveryFailed, 500, "x", t0.Add(time.Hour), time.Time{})

	n, err := s.RecoverDeliveries(ctx, "acme", w.ID, t0.Add(30*time.Minute), t0.Add(2*time.Hour))
	if err != nil || n != 1 {
		t.Fatalf("RecoverDeliveries = %d, %v; want 1", n, err)
	}
	jobs := mustClaim(t, s, w.ID, 10, t0.Add(2*time.Hour))
	if len(jobs) != 1 || jobs[0].DeliveryID != recent.DeliveryID {
		t.Fatalf("after recover, claim = %+v, want %s", jobs, recent.DeliveryID)
	}
	d, err := s.RetryDelivery(ctx, "acme", w.ID, old.DeliveryID, t0.Add(3*time.Hour))
	if err != nil || d.Status != herald.DeliveryPending || len(d.AttemptLog) != 1 {
		t.Fatalf("RetryDelivery = %+v, %v", d, err)
	}
	if _, err := s.RetryDelivery(ctx, "globex", w.ID, old.DeliveryID, t0); herald.ErrorCodeOf(err) != herald.CodeNotFound {
		t.Fatalf("another tenant retried: %v", err)
	}
	if _, err := s.RecoverDeliveries(ctx, "globex", w.ID, t0, t0); herald.ErrorCodeOf(err) != herald.CodeNotFound {
		t.Fatalf("another tenant recovered: %v", err)
	}
}

func testDeleteCancelsPending(t *testing.T, s herald.Store) {
	ctx := context.Background()
	w := mustCreate(t, s, newWebhook("acme", 1))
	p := publish(t, s, "acme", "batch.failed", "", t0)
	if err := s.DeleteWebhook(ctx, "acme", w.ID); err != nil {
		t.Fatal(err)
	}
	_, deliveries, err := s.GetEvent(ctx, "acme", p.Event.ID)
	if err != nil || len(deliveries) != 1 || deliveries[0].Status != herald.DeliveryCancelled {
		t.Fatalf("after delete: %+v, %v; want the delivery cancelled", deliveries, err)
	}
	if jobs := mustClaim(t, s, w.ID, 10, t0.Add(time.Hour)); len(jobs) != 0 {
		t.Fatalf("claimed %d cancelled deliveries", len(jobs))
	}
}

func testGetEventIsTenantScoped(t *testing.T, s herald.Store) {
	ctx := context.Background()
	mustCreate(t, s, newWebhook("acme", 1))
	p := publish(t, s, "acme", "batch.failed", "", t0)
	ev, deliveries, err := s.GetEvent(ctx, "acme", p.Event.ID)
	if err != nil || ev.Type != "batch.failed" || string(ev.Payload) != string(p.Event.Payload) || len(deliveries) != 1 {
		t.Fatalf("GetEvent = %+v, %v, %v", ev, deliveries, err)
	}
	if _, _, err := s.GetEvent(ctx, "globex", p.Event.ID); herald.ErrorCodeOf(err) != herald.CodeNotFound {
		t.Fatalf("another tenant got the event: %v", err)
	}
}
