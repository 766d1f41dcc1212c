package main_test

import (
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
)

type countingReceiver struct {
	*httptest.Server
	n atomic.Int32
}

func newCountingReceiver(t *testing.T) *countingReceiver {
	rc := &countingReceiver{}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { rc.n.Add(1) }))
	t.Cleanup(rc.Close)
	return rc
}

func (rc *countingReceiver) count() int { return int(rc.n.Load()) }

// newCountingReceiverFunc counts requests and runs during inside each.
func newCountingReceiverFunc(t *testing.T, during func()) *countingReceiver {
	rc := &countingReceiver{}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		during()
		rc.n.Add(1)
	}))
	t.Cleanup(rc.Close)
	return rc
}
