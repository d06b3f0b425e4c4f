package browser

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/servicecontacts/servicecontacts/infra/local/stack"
	"github.com/servicecontacts/servicecontacts/infra/local/stack/stacktest"
	"github.com/servicecontacts/servicecontacts/shared/store"
)

// frontend is a page that calls the API from its own origin, as a console on another host
// does: it reads the API's address and the token from its fragment, fetches the caller's
// requests with the token in an Authorization header (so the browser asks first), and says
// whether the browser let it read the answer.
const frontend = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Console</title></head>
<body><output id="result"></output>
<script>
const params = new URLSearchParams(location.hash.slice(1));
const out = document.getElementById("result");
fetch(params.get("api") + "/me/contact-changes", {headers: {Authorization: "Bearer " + params.get("token")}})
  .then(async (r) => {
    const body = await r.json();
    out.textContent = JSON.stringify({status: r.status, items: Array.isArray(body.items), requestId: r.headers.get("apigw-requestid") || ""});
    out.dataset.outcome = "answered";
  })
  .catch((e) => {
    out.textContent = e.name + ": " + e.message;
    out.dataset.outcome = "rejected";
  });
</script></body></html>`

// serveFrontend serves the page on a loopback port of its own: an origin of its own.
func serveFrontend(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = io.WriteString(w, frontend)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// The API answers the browsers of the origins it lists, and only those.
func TestCORSInTheBrowser(t *testing.T) {
	ctx := browse(t)
	listed, unlisted := serveFrontend(t), serveFrontend(t)
	s := stacktest.Start(t, stack.Options{
		Seed: store.Seed{
			Accounts: []store.SeedAccount{{NIC: admin, Email: "admin@example.com", Language: "en", GoodStanding: true}},
			Services: []store.SeedService{{ID: "example.com", Type: "domain", Admin: admin, Tech: admin, Billing: admin}},
		},
		JWTSecret:   secret,
		CORSOrigins: []string{listed.URL},
	})

	// call opens the page of origin and returns what its script could tell of the answer.
	// Each call has a path of its own: a change of fragment alone would not load the page.
	calls := 0
	call := func(origin, token string) (outcome, result string) {
		t.Helper()
		calls++
		fragment := url.Values{"api": {s.URL}, "token": {token}}.Encode()
		if status := open(t, ctx, fmt.Sprintf("%s/call-%d#%s", origin, calls, fragment)); status != http.StatusOK {
			t.Fatalf("page of %s: status %d", origin, status)
		}
		run(t, ctx, "wait for the call to end", chromedp.WaitReady(`#result[data-outcome]`))
		outcome = run(t, ctx, "outcome", chromedp.Evaluate[string](`document.getElementById("result").dataset.outcome`))
		result = run(t, ctx, "result", chromedp.Evaluate[string](`document.getElementById("result").textContent`))
		return outcome, result
	}
	type answer struct {
		Status    int
		Items     bool
		RequestID string
	}
	read := func(result string) answer {
		t.Helper()
		var a answer
		if err := json.Unmarshal([]byte(result), &a); err != nil {
			t.Fatalf("decode the page's result %q: %v", result, err)
		}
		return a
	}

	// The listed origin reads the answer, and the request id the API exposes.
	outcome, result := call(listed.URL, s.Bearer(admin))
	if outcome != "answered" {
		t.Fatalf("from the listed origin %s the call was %s: %s", listed.URL, outcome, result)
	}
	if a := read(result); a.Status != http.StatusOK || !a.Items || a.RequestID == "" {
		t.Errorf("from the listed origin: %+v, want status 200, a list of items and the apigw-requestid header", a)
	}

	// It reads a refusal too, so that a console can send its user to sign in again.
	outcome, result = call(listed.URL, "forged")
	if outcome != "answered" {
		t.Fatalf("with a forged token from the listed origin the call was %s: %s", outcome, result)
	}
	if a := read(result); a.Status != http.StatusUnauthorized {
		t.Errorf("with a forged token from the listed origin: %+v, want status 401", a)
	}

	// Another origin, with the same valid token, is stopped by the browser.
	outcome, result = call(unlisted.URL, s.Bearer(admin))
	if outcome != "rejected" {
		t.Errorf("from the unlisted origin %s the call was %s (%s), want the browser to reject it", unlisted.URL, outcome, result)
	}
	t.Logf("from the unlisted origin: %s", result)
}
