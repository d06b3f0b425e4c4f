package browser

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/servicecontacts/servicecontacts/infra/local/stack"
)

// clientID is the console's client at the test issuer, the audience the stack accepts.
const clientID = "customer-space"

// issuer runs NAV's mock-oauth2-server, a real OpenID Connect issuer, on a loopback port
// until the test ends, and returns its issuer URL. Its login page is the test's own: the
// built-in one loads fonts from the Internet. Under make test MOCK_OAUTH2_SERVER names its
// folder of jars, and a missing server is a failure; elsewhere the test skips.
func issuer(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("MOCK_OAUTH2_SERVER")
	if dir == "" {
		t.Skip("MOCK_OAUTH2_SERVER is unset: make test installs mock-oauth2-server and sets it")
	}
	if jars, _ := filepath.Glob(filepath.Join(dir, "mock-oauth2-server-*.jar")); len(jars) == 0 {
		t.Fatalf("MOCK_OAUTH2_SERVER=%s holds no mock-oauth2-server jar (make mock-oauth2-server installs it)", dir)
	}
	login, err := filepath.Abs("testdata/login.html")
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()

	settings, _ := json.Marshal(map[string]any{"interactiveLogin": true, "loginPagePath": login})
	cmd := exec.Command("java", "-cp", filepath.Join(dir, "*"), "no.nav.security.mock.oauth2.StandaloneMockOAuth2ServerKt")
	cmd.Env = append(os.Environ(), "JSON_CONFIG="+string(settings), "SERVER_HOSTNAME=127.0.0.1", fmt.Sprintf("SERVER_PORT=%d", port))
	logFile, err := os.Create(filepath.Join(t.TempDir(), "issuer.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		t.Fatalf("start mock-oauth2-server: %v", err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
	})

	iss := fmt.Sprintf("http://127.0.0.1:%d/default", port)
	deadline := time.Now().Add(step)
	for {
		res, err := http.Get(iss + "/.well-known/openid-configuration")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return iss
			}
		}
		select {
		case <-exited:
			log, _ := os.ReadFile(logFile.Name())
			t.Fatalf("mock-oauth2-server exited:\n%s", log)
		case <-time.After(200 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(logFile.Name())
			t.Fatalf("mock-oauth2-server does not answer at %s: %v\n%s", iss, err, log)
		}
	}
}

// A customer signs in to the console at the issuer, with the authorization code and PKCE,
// comes back where he was going, and the API takes the issuer's ID token as his.
func TestConsoleSignInWithIssuer(t *testing.T) {
	axe := loadAxe(t)
	iss := issuer(t)
	ctx := browse(t)
	s := startWith(t, stack.Options{OIDCIssuer: iss, OIDCClientID: clientID})

	// A screen opened signed out goes to the sign-in screen, which offers the issuer only.
	open(t, ctx, s.URL+"/requests")
	waitSel(t, ctx, "#signin-issuer")
	screenshot(t, ctx, "oidc-1-signin")
	axe.check(t, ctx, "sign-in with the issuer")
	unnamed(t, ctx, "sign-in with the issuer")
	mustShow(t, "sign-in", text(t, ctx), "Sign in", "Sign in with your account", "You sign in at 127.0.0.1:")
	if n := run(t, ctx, "developer accounts", chromedp.Evaluate[int](`document.querySelectorAll("button[data-nic]").length`)); n != 0 {
		t.Error("with an issuer, the sign-in screen still offers the developer accounts")
	}

	press(t, ctx, "#signin-issuer")
	waitSel(t, ctx, `input[name="username"]`)
	authorize, err := url.Parse(run(t, ctx, "location", chromedp.Location()))
	if err != nil {
		t.Fatal(err)
	}
	q := authorize.Query()
	if !strings.HasPrefix(authorize.String(), iss+"/authorize?") || q.Get("response_type") != "code" || q.Get("client_id") != clientID ||
		q.Get("redirect_uri") != s.URL+"/signin" || q.Get("code_challenge_method") != "S256" || len(q.Get("code_challenge")) != 43 ||
		q.Get("state") == "" || q.Get("nonce") == "" || q.Get("scope") != "openid" {
		t.Fatalf("the console sends the browser to %s", authorize)
	}
	fill(t, ctx, `input[name="username"]`, admin)
	press(t, ctx, `button[type="submit"]`)

	waitSel(t, ctx, "#signout")
	waitSel(t, ctx, "#requests-out")
	if loc := run(t, ctx, "location", chromedp.Location()); loc != s.URL+"/requests" {
		t.Errorf("signed in, the console is at %s, not where it was going", loc)
	}
	mustShow(t, "signed in", text(t, ctx), "Signed in as "+admin, "Your requests")
	token := run(t, ctx, "token", chromedp.Evaluate[string](`sessionStorage.getItem("customerspace.token") || ""`))
	if alg := algOf(t, token); alg != "RS256" {
		t.Errorf("the console keeps a %q token, not the issuer's ID token", alg)
	}
	if n := run(t, ctx, "pending sign-ins", chromedp.Evaluate[int](`sessionStorage.length`)); n != 1 {
		t.Errorf("the sign-in leaves %d items in sessionStorage, want the token alone", n)
	}
	press(t, ctx, `nav a[href="/services"]`)
	waitSel(t, ctx, `tr[data-id="example.com"]`)
	screenshot(t, ctx, "oidc-2-services")

	// A callback this tab did not start is refused, in words, and signs nobody in.
	press(t, ctx, "#signout")
	waitSel(t, ctx, "#signin-issuer") // the sign-out's own navigation ends before the next
	open(t, ctx, s.URL+"/signin?code=forged&state=forged")
	waitText(t, ctx, "This sign-in was not started here")
	screenshot(t, ctx, "oidc-3-forged-state")
	axe.check(t, ctx, "refused sign-in")
	if tok := run(t, ctx, "token", chromedp.Evaluate[string](`sessionStorage.getItem("customerspace.token") || ""`)); tok != "" {
		t.Error("a forged callback signed someone in")
	}
	if loc := run(t, ctx, "location", chromedp.Location()); loc != s.URL+"/signin" {
		t.Errorf("after a callback the address bar shows %s", loc)
	}

	// A sign-in the issuer answers with an error is refused too, and may start again.
	press(t, ctx, "#signin-issuer")
	waitSel(t, ctx, `input[name="username"]`)
	authorize, _ = url.Parse(run(t, ctx, "location", chromedp.Location()))
	open(t, ctx, s.URL+"/signin?"+url.Values{"error": {"access_denied"}, "state": {authorize.Query().Get("state")}}.Encode())
	waitText(t, ctx, "The sign-in was refused or cancelled.")
	waitSel(t, ctx, "#signin-issuer")
	mustShow(t, "refused", text(t, ctx), "Sign in again")
}

// The gateway takes the issuer's ID tokens for the console's client only: one issued to
// another client of the same issuer is refused, as API Gateway's JWT authorizer refuses a
// token of another audience.
func TestIssuerTokensOfTheConsoleOnly(t *testing.T) {
	iss := issuer(t)
	s := startWith(t, stack.Options{OIDCIssuer: iss, OIDCClientID: clientID})
	for _, tt := range []struct {
		client string
		want   int
	}{
		{clientID, http.StatusOK},
		{"another-app", http.StatusUnauthorized},
	} {
		token := codeFlow(t, iss, tt.client, s.URL+"/signin", admin)
		req, _ := http.NewRequest("GET", s.URL+"/me", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var me struct{ NIC string }
		_ = json.NewDecoder(res.Body).Decode(&me)
		res.Body.Close()
		if res.StatusCode != tt.want || (tt.want == http.StatusOK && me.NIC != admin) {
			t.Errorf("GET /me with an ID token for %s: status %d, nic %q; want %d", tt.client, res.StatusCode, me.NIC, tt.want)
		}
	}
}

// codeFlow signs user in at the issuer as client, as a browser would (authorization code
// with PKCE), and returns the ID token.
func codeFlow(t *testing.T, iss, client, redirect, user string) string {
	t.Helper()
	verifier := b64(random(t, 32))
	sum := sha256.Sum256([]byte(verifier))
	state := b64(random(t, 16))
	authorize := iss + "/authorize?" + url.Values{
		"response_type": {"code"}, "client_id": {client}, "redirect_uri": {redirect}, "scope": {"openid"},
		"state": {state}, "nonce": {b64(random(t, 16))}, "code_challenge": {b64(sum[:])}, "code_challenge_method": {"S256"},
	}.Encode()
	noRedirect := &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := noRedirect.PostForm(authorize, url.Values{"username": {user}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	back, err := url.Parse(res.Header.Get("Location"))
	if err != nil || res.StatusCode != http.StatusFound || back.Query().Get("state") != state {
		t.Fatalf("the issuer answered the login with %d, Location %q", res.StatusCode, res.Header.Get("Location"))
	}
	res, err = noRedirect.PostForm(iss+"/token", url.Values{
		"grant_type": {"authorization_code"}, "code": {back.Query().Get("code")}, "redirect_uri": {redirect},
		"client_id": {client}, "code_verifier": {verifier},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var tokens struct {
		IDToken string `json:"id_token"`
	}
	if err := json.NewDecoder(res.Body).Decode(&tokens); err != nil || res.StatusCode != http.StatusOK || tokens.IDToken == "" {
		t.Fatalf("token endpoint: status %d, %v", res.StatusCode, err)
	}
	return tokens.IDToken
}

func random(t *testing.T, n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// algOf is the signing algorithm a JWT's header names.
func algOf(t *testing.T, token string) string {
	t.Helper()
	head, _, _ := strings.Cut(token, ".")
	raw, err := base64.RawURLEncoding.DecodeString(head)
	var header struct{ Alg string }
	if err != nil || json.Unmarshal(raw, &header) != nil {
		return ""
	}
	return header.Alg
}
