package main_test

import (
	"bufio"
	"net/http"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/verify"
)

func TestListenVerifiesAndPrints(t *testing.T) {
	t.Parallel()
	const secret = "webhook-secret-123"
	cmd := exec.Command(heraldBin, "listen", "--secret", secret, "--addr", "127.0.0.1:0")
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	lines := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	next := func() string {
		select {
		case l := <-lines:
			return l
		case <-time.After(30 * time.Second):
			t.Fatal("herald listen printed nothing for 30s")
			return ""
		}
	}
	first := next()
	url := strings.TrimSuffix(strings.Fields(first)[2], ",")
	if !strings.HasPrefix(url, "http://127.0.0.1:") {
		t.Fatalf("first line %q names no address", first)
	}

	send := func(sig string) int {
		body := `{"id":"evt_1","event":"batch.failed","timestamp":1,"data":{}}`
		req, _ := http.NewRequest("POST", url+"/hook", strings.NewReader(body))
		now := time.Now()
		key, _ := verify.SecretKey(secret)
		if sig == "" {
			sig = verify.Sign(key, "evt_1", now, []byte(body))
		}
		req.Header.Set(verify.HeaderID, "evt_1")
		req.Header.Set(verify.HeaderTimestamp, strconv.FormatInt(now.Unix(), 10))
		req.Header.Set(verify.HeaderSignature, sig)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := send(""); got != http.StatusNoContent {
		t.Fatalf("signed delivery answered %d, want 204", got)
	}
	if l := next(); !strings.Contains(l, "webhook-id=evt_1") || !strings.Contains(l, "signature verified") {
		t.Fatalf("printed %q", l)
	}
	if l := next(); !strings.Contains(l, "{") {
		t.Fatalf("body line %q", l)
	}
	for l := ""; l != "  }"; l = next() { // the rest of the body
	}
	if got := send("v1,Zm9yZ2Vk"); got != http.StatusUnauthorized {
		t.Fatalf("forged delivery answered %d, want 401", got)
	}
	if l := next(); !strings.Contains(l, "REJECTED") {
		t.Fatalf("printed %q for a forged delivery", l)
	}
}
