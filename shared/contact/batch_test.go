package contact_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/servicecontacts/servicecontacts/shared/contact"
	"github.com/servicecontacts/servicecontacts/shared/store"
)

// addDomains loads n more domains held like example.com (adm, tec, bil) and returns their ids.
func (e *env) addDomains(n int) []string {
	e.t.Helper()
	s := store.Seed{Accounts: seed().Accounts}
	var ids []string
	for i := range n {
		id := fmt.Sprintf("d%02d.example", i)
		ids = append(ids, id)
		s.Services = append(s.Services, store.SeedService{ID: id, Type: "domain", Admin: adm, Tech: tec, Billing: bil})
	}
	if err := e.st.Load(e.ctx, s); err != nil {
		e.t.Fatal(err)
	}
	return ids
}

// batch asks for a batch and fails the test if the call fails.
func (e *env) batch(caller string, services []string, wanted map[contact.Role]string) (contact.Batch, []contact.Change) {
	e.t.Helper()
	b, created, err := e.m.RequestBatch(e.ctx, caller, services, wanted)
	if err != nil {
		e.t.Fatalf("RequestBatch(%s, %d services, %v): %v", caller, len(services), wanted, err)
	}
	return b, created
}

// decideBatch answers batch id for nic with the batch token last emailed to it.
func (e *env) decideBatch(id, nic string, accept bool) []contact.BatchAnswer {
	e.t.Helper()
	token := e.mail.BatchToken(id, nic)
	if token == "" {
		e.t.Fatalf("no batch token was emailed to %s for batch %s", nic, id)
	}
	_, answers, err := e.m.DecideBatch(e.ctx, contact.BatchDecision{BatchID: id, Token: token, Caller: nic, Accept: accept})
	if err != nil {
		e.t.Fatalf("DecideBatch(%s, %s, accept=%v): %v", id, nic, accept, err)
	}
	return answers
}

// emailsTo counts the emails sent to nic, by kind.
func (e *env) emailsTo(nic string) map[contact.NoticeKind]int {
	out := map[contact.NoticeKind]int{}
	for _, n := range e.mail.Sent() {
		if n.To == nic {
			out[n.Kind]++
		}
	}
	return out
}

func TestBatchOfFiftyIsConfirmedOnceByEachParty(t *testing.T) {
	onBackends(t, func(t *testing.T, e *env) {
		services := e.addDomains(50)
		b, created := e.batch(adm, services, map[contact.Role]string{contact.Tech: nwc})
		if len(created) != 50 || len(b.Items) != 50 {
			t.Fatalf("batch made %d requests in %d items, want 50 and 50", len(created), len(b.Items))
		}
		for i, item := range b.Items {
			if item.ServiceID != services[i] || item.Error != nil || len(item.Changes) != 1 {
				t.Fatalf("item %d = %+v, want one request for %s", i, item, services[i])
			}
		}
		for _, c := range created {
			if c.BatchID != b.ID || c.State != contact.Pending {
				t.Fatalf("request %s: batch %q, state %s", c.ID, c.BatchID, c.State)
			}
		}
		// One email each, listing all fifty; no token email of a request of its own.
		for _, nic := range []string{adm, nwc} {
			sent := e.mail.OfBatch(b.ID, contact.NoticeBatchToken)
			var theirs []sentNotice
			for _, n := range sent {
				if n.To == nic {
					theirs = append(theirs, n)
				}
			}
			if len(theirs) != 1 || len(theirs[0].Changes) != 50 {
				t.Fatalf("batch emails to %s: %+v, want one listing 50 requests", nic, theirs)
			}
			if got := e.emailsTo(nic); got[contact.NoticeBatchToken] != 1 || len(got) != 1 {
				t.Errorf("emails to %s after the batch: %v, want one batch token email", nic, got)
			}
		}
		if got := e.emailsTo(tec); len(got) != 0 {
			t.Errorf("the previous holder got %v before anything was applied", got)
		}

		// One accept by each answers all fifty.
		for _, nic := range []string{nwc, adm} {
			answers := e.decideBatch(b.ID, nic, true)
			if len(answers) != 50 {
				t.Fatalf("%s's accept answered %d requests, want 50", nic, len(answers))
			}
			for _, a := range answers {
				if a.Err != nil {
					t.Fatalf("%s's accept of %s: %v", nic, a.Change.ID, a.Err)
				}
			}
		}
		for _, c := range created {
			e.wantState(c.ID, contact.Applying)
			if _, err := e.m.Apply(e.ctx, c.ID); err != nil {
				t.Fatal(err)
			}
		}
		for _, id := range services {
			e.wantContacts(id, map[contact.Role]string{contact.Admin: adm, contact.Tech: nwc, contact.Billing: bil})
		}
		// Everyone involved learns the fifty outcomes in one email; nothing else was sent.
		for nic, want := range map[string]map[contact.NoticeKind]int{
			adm: {contact.NoticeBatchToken: 1, contact.NoticeBatchOutcome: 1},
			nwc: {contact.NoticeBatchToken: 1, contact.NoticeBatchOutcome: 1},
			tec: {contact.NoticeBatchOutcome: 1},
		} {
			if got := e.emailsTo(nic); !mapsEqual(got, want) {
				t.Errorf("emails to %s: %v, want %v", nic, got, want)
			}
		}
		for _, n := range e.mail.OfBatch(b.ID, contact.NoticeBatchOutcome) {
			if len(n.Changes) != 50 {
				t.Errorf("outcome email to %s lists %d requests, want 50", n.To, len(n.Changes))
			}
		}
		got, err := e.st.Batch(e.ctx, b.ID)
		if err != nil || !got.Told || !got.DueAt.IsZero() {
			t.Errorf("batch after telling: told %v, due %v, err %v", got.Told, got.DueAt, err)
		}
		// The used token answers nothing more.
		_, _, err = e.m.DecideBatch(e.ctx, contact.BatchDecision{BatchID: b.ID, Token: e.mail.BatchToken(b.ID, nwc), Caller: nwc, Accept: true})
		wantError(t, err, contact.ErrGone, "token_used")
	})
}

func mapsEqual[K comparable, V comparable](a, b map[K]V) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func TestBatchServiceThatFailsLeavesTheOthers(t *testing.T) {
	onBackends(t, func(t *testing.T, e *env) {
		services := e.addDomains(3)
		e.lockRole(services[1], contact.Tech, "0123456789abcdef0123456789abcdef")
		all := append(services, "no-such.example", ownSvc)
		b, created := e.batch(adm, all, map[contact.Role]string{contact.Tech: nwc})
		wantCodes := []string{"", "request_open", "", "service_not_found", ""}
		for i, item := range b.Items {
			code := ""
			if item.Error != nil {
				code = item.Error.Code
			}
			if code != wantCodes[i] || (code == "") != (len(item.Changes) == 1) {
				t.Errorf("item %s: error %q, %d requests; want error %q", item.ServiceID, code, len(item.Changes), wantCodes[i])
			}
		}
		if len(created) != 3 {
			t.Fatalf("made %d requests, want 3", len(created))
		}
		// The emails and the token list only the requests made.
		for _, n := range e.mail.OfBatch(b.ID, contact.NoticeBatchToken) {
			if len(n.Changes) != 3 {
				t.Errorf("batch email to %s lists %d requests, want 3", n.To, len(n.Changes))
			}
		}
		answers := e.decideBatch(b.ID, nwc, true)
		if len(answers) != 3 {
			t.Errorf("accept answered %d requests, want 3", len(answers))
		}
		if got := e.service(services[1]).Open[contact.Tech]; got != "0123456789abcdef0123456789abcdef" {
			t.Errorf("the locked role's lock is now %q", got)
		}
	})
}

func TestBatchAnswersWhatIsLeftAfterAnAnswerOfItsOwn(t *testing.T) {
	onBackends(t, func(t *testing.T, e *env) {
		services := e.addDomains(3)
		b, created := e.batch(adm, services, map[contact.Role]string{contact.Tech: nwc})
		token := e.mail.BatchToken(b.ID, nwc)
		// nwc answers one request on its own, with the batch token: it is that request's
		// token too.
		if _, err := e.m.Decide(e.ctx, contact.Decision{ChangeID: created[0].ID, Token: token, Caller: nwc, Accept: true}); err != nil {
			t.Fatal(err)
		}
		_, answers, err := e.m.DecideBatch(e.ctx, contact.BatchDecision{BatchID: b.ID, Token: token, Caller: nwc, Accept: true})
		if err != nil {
			t.Fatal(err)
		}
		var codes []string
		for _, a := range answers {
			code := ""
			if a.Err != nil {
				code = a.Err.Code
			}
			codes = append(codes, code)
		}
		if !slices.Equal(codes, []string{"token_used", "", ""}) {
			t.Errorf("answers: %q, want the first already used and the others answered", codes)
		}
		// adm refuses the whole batch: each request ends refused, and one email tells.
		for _, a := range e.decideBatch(b.ID, adm, false) {
			if a.Err != nil || a.Change.State != contact.Refused {
				t.Errorf("refusal of %s: %s, %v", a.Change.ID, a.Change.State, a.Err)
			}
		}
		for _, c := range created {
			e.wantReleased(e.wantState(c.ID, contact.Refused))
		}
		for _, nic := range []string{adm, nwc} {
			if got := e.emailsTo(nic); got[contact.NoticeBatchOutcome] != 1 || got[contact.NoticeRefused] != 0 || got[contact.NoticeWaiting] != 0 {
				t.Errorf("emails to %s: %v, want one outcome email and no email of a request of its own", nic, got)
			}
		}
	})
}

func TestBatchTokensAreCheckedLikeRequestTokens(t *testing.T) {
	onBackends(t, func(t *testing.T, e *env) {
		services := e.addDomains(2)
		b, _ := e.batch(adm, services, map[contact.Role]string{contact.Tech: nwc})
		admToken := e.mail.BatchToken(b.ID, adm)
		// Another party's token, through the API, is a wrong token.
		_, _, err := e.m.DecideBatch(e.ctx, contact.BatchDecision{BatchID: b.ID, Token: admToken, Caller: nwc, Accept: true})
		wantError(t, err, contact.ErrForbidden, "invalid_token")
		// Someone neither requester nor party does not see the batch.
		_, _, err = e.m.DecideBatch(e.ctx, contact.BatchDecision{BatchID: b.ID, Token: admToken, Caller: stranger, Accept: true})
		wantError(t, err, contact.ErrNotFound, "batch_not_found")
		_, _, err = e.m.GetBatch(e.ctx, stranger, b.ID)
		wantError(t, err, contact.ErrNotFound, "batch_not_found")
		_, _, err = e.m.GetBatch(e.ctx, nwc, "0123456789abcdef0123456789abcdef")
		wantError(t, err, contact.ErrNotFound, "batch_not_found")
		// Through the emailed link, the token alone says who answers.
		got, changes, acct, err := e.m.LookupBatch(e.ctx, b.ID, admToken, "192.0.2.1")
		if err != nil || got.ID != b.ID || len(changes) != 2 || acct.NIC != adm {
			t.Fatalf("LookupBatch: %s, %d requests, %s, %v", got.ID, len(changes), acct.NIC, err)
		}
		// A resend replaces the batch token of each party still waiting.
		e.clock.Advance(2 * contact.DefaultResendInterval)
		if _, _, err := e.m.ResendBatch(e.ctx, adm, b.ID); err != nil {
			t.Fatal(err)
		}
		_, _, err = e.m.DecideBatch(e.ctx, contact.BatchDecision{BatchID: b.ID, Token: admToken, Accept: true})
		wantError(t, err, contact.ErrGone, "token_replaced")
		_, _, err = e.m.ResendBatch(e.ctx, adm, b.ID)
		wantError(t, err, contact.ErrRateLimited, "resend_too_soon")
		fresh := e.mail.BatchToken(b.ID, adm)
		if fresh == admToken {
			t.Fatal("the resend sent the same token")
		}
		_, answers, err := e.m.DecideBatch(e.ctx, contact.BatchDecision{BatchID: b.ID, Token: fresh, Accept: true})
		if err != nil || len(answers) != 2 || answers[0].Err != nil || answers[1].Err != nil {
			t.Fatalf("accept with the fresh token: %+v, %v", answers, err)
		}
	})
}

func TestConcurrentAcceptsOfOneBatchTokenAnswerEachRequestOnce(t *testing.T) {
	onBackends(t, func(t *testing.T, e *env) {
		services := e.addDomains(10)
		b, created := e.batch(adm, services, map[contact.Role]string{contact.Tech: nwc})
		token := e.mail.BatchToken(b.ID, nwc)
		const callers = 4
		var wg sync.WaitGroup
		answered := make([]int, callers)
		errs := make([]error, callers)
		for i := range callers {
			wg.Go(func() {
				_, answers, err := e.m.DecideBatch(e.ctx, contact.BatchDecision{BatchID: b.ID, Token: token, Caller: nwc, Accept: true})
				errs[i] = err
				for _, a := range answers {
					if a.Err == nil {
						answered[i]++
					} else if a.Err.Code != "token_used" {
						t.Errorf("a concurrent accept of %s: %v", a.Change.ID, a.Err)
					}
				}
			})
		}
		wg.Wait()
		total := 0
		for i := range callers {
			total += answered[i]
			if errs[i] != nil && asError(errs[i]).Code != "token_used" {
				t.Errorf("accept %d: %v", i, errs[i])
			}
		}
		if total != len(created) {
			t.Errorf("the concurrent accepts answered %d requests in all, want %d", total, len(created))
		}
		for _, c := range created {
			got := e.change(c.ID)
			p, _ := got.Party(nwc)
			accepted := 0
			for _, h := range got.History {
				if h.Event == "accepted" && h.By == nwc {
					accepted++
				}
			}
			if p.Status != contact.Accepted || accepted != 1 {
				t.Errorf("request %s: nwc %s, accepted %d times in its history", c.ID, p.Status, accepted)
			}
		}
	})
}

func TestBatchInputsAreChecked(t *testing.T) {
	onBackends(t, func(t *testing.T, e *env) {
		tech := map[contact.Role]string{contact.Tech: nwc}
		many := make([]string, contact.MaxBatchServices+1)
		for i := range many {
			many[i] = fmt.Sprintf("s%03d.example", i)
		}
		for _, tt := range []struct {
			services []string
			wanted   map[contact.Role]string
			code     string
		}{
			{nil, tech, "empty_batch"},
			{many, tech, "too_many_services"},
			{[]string{svcID, svcID}, tech, "duplicate_service"},
			{[]string{svcID}, nil, "empty_request"},
			{[]string{svcID}, map[contact.Role]string{contact.Tech: "nobody"}, "invalid_nic"},
		} {
			_, _, err := e.m.RequestBatch(e.ctx, adm, tt.services, tt.wanted)
			wantError(t, err, contact.ErrInvalid, tt.code)
		}
		if len(e.mail.Sent()) != 0 {
			t.Errorf("refused batches sent %d emails", len(e.mail.Sent()))
		}
	})
}

// A writer that ends the last request but fails to send the outcomes leaves them to the
// reconciler, which sends them once the owner's window has passed, and only then.
func TestBatchOutcomesLostByTheirWriterAreToldByTheReconciler(t *testing.T) {
	onBackends(t, func(t *testing.T, e *env) {
		services := e.addDomains(2)
		b, created := e.batch(adm, services, map[contact.Role]string{contact.Tech: nwc})
		e.mail.NotifyFunc = func(_ context.Context, n contact.Notice) error {
			if n.Kind == contact.NoticeBatchOutcome {
				return errors.New("mail service down")
			}
			return nil
		}
		e.decideBatch(b.ID, adm, false) // ends both requests refused
		for _, c := range created {
			e.wantState(c.ID, contact.Refused)
		}
		if n := len(e.mail.OfBatch(b.ID, contact.NoticeBatchOutcome)); n != 0 {
			t.Fatalf("%d outcome emails went out while the mail service was down", n)
		}
		e.mail.NotifyFunc = nil
		if _, err := e.m.Sweep(e.ctx); err != nil {
			t.Fatal(err)
		}
		if n := len(e.mail.OfBatch(b.ID, contact.NoticeBatchOutcome)); n != 0 {
			t.Fatalf("the reconciler told the outcomes within the writer's window (%d emails)", n)
		}
		e.clock.Advance(contact.DefaultOwnerWindow + time.Second)
		if _, err := e.m.Sweep(e.ctx); err != nil {
			t.Fatal(err)
		}
		told := map[string]int{}
		for _, n := range e.mail.OfBatch(b.ID, contact.NoticeBatchOutcome) {
			told[n.To]++
		}
		// Everyone involved, the previous holder told of the outcome included.
		if !mapsEqual(told, map[string]int{adm: 1, nwc: 1, tec: 1}) {
			t.Errorf("outcome emails after the sweep: %v, want one each to %s, %s and %s", told, adm, nwc, tec)
		}
		if got, err := e.st.Batch(e.ctx, b.ID); err != nil || !got.Told || !got.DueAt.IsZero() {
			t.Errorf("batch after the sweep: told %v, due %v, err %v", got.Told, got.DueAt, err)
		}
		if _, err := e.m.Sweep(e.ctx); err != nil {
			t.Fatal(err)
		}
		if n := len(e.mail.OfBatch(b.ID, contact.NoticeBatchOutcome)); n != 3 {
			t.Errorf("a later sweep sent the outcomes again: %d emails", n)
		}
	})
}
