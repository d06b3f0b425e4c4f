package mail

import (
	"fmt"
	"strings"
	"time"

	"github.com/servicecontacts/servicecontacts/shared/contact"
)

// locale holds the words the templates get as values rather than write themselves.
type locale struct {
	roles  map[contact.Role]string
	months [12]string
	// dateTime formats day, month name, year and hh:mm.
	dateTime string
	// failures word why a change could not be applied; {role} is the role, {account} the account.
	failures map[contact.FailureCode]string
}

var locales = map[contact.Language]locale{
	contact.English: {
		roles:    map[contact.Role]string{contact.Admin: "admin", contact.Tech: "tech", contact.Billing: "billing"},
		months:   [12]string{"January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"},
		dateTime: "%d %s %d at %s UTC",
		failures: map[contact.FailureCode]string{
			contact.FailureServiceGone:       "the service no longer exists",
			contact.FailureContactChanged:    "the {role} contact changed meanwhile",
			contact.FailureRoleLocked:        "another request is open on the {role} contact",
			contact.FailureAccountGone:       "account {account} no longer exists",
			contact.FailureNotInGoodStanding: "account {account} is no longer in good standing with its payments",
			contact.FailureAdminChanged:      "the admin changed meanwhile",
			contact.FailureAuthorityLost:     "{account} no longer holds the {role} role that allowed the request",
			contact.FailureWorkflowLost:      "the request could not be processed to the end; nothing was changed, and you may ask again",
		},
	},
	contact.Italian: {
		roles:    map[contact.Role]string{contact.Admin: "amministratore", contact.Tech: "tecnico", contact.Billing: "di fatturazione"},
		months:   [12]string{"gennaio", "febbraio", "marzo", "aprile", "maggio", "giugno", "luglio", "agosto", "settembre", "ottobre", "novembre", "dicembre"},
		dateTime: "%d %s %d alle %s UTC",
		failures: map[contact.FailureCode]string{
			contact.FailureServiceGone:       "il servizio non esiste più",
			contact.FailureContactChanged:    "nel frattempo il contatto {role} è cambiato",
			contact.FailureRoleLocked:        "un'altra richiesta è aperta sul contatto {role}",
			contact.FailureAccountGone:       "l'account {account} non esiste più",
			contact.FailureNotInGoodStanding: "l'account {account} non è più in regola con i pagamenti",
			contact.FailureAdminChanged:      "nel frattempo l'amministratore è cambiato",
			contact.FailureAuthorityLost:     "{account} non è più il contatto {role} che ha permesso la richiesta",
			contact.FailureWorkflowLost:      "non è stato possibile portare a termine la richiesta; non è cambiato nulla e puoi ripeterla",
		},
	},
	contact.French: {
		roles:    map[contact.Role]string{contact.Admin: "administrateur", contact.Tech: "technique", contact.Billing: "facturation"},
		months:   [12]string{"janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre", "novembre", "décembre"},
		dateTime: "%d %s %d à %s UTC",
		failures: map[contact.FailureCode]string{
			contact.FailureServiceGone:       "le service n'existe plus",
			contact.FailureContactChanged:    "le contact {role} a changé entre-temps",
			contact.FailureRoleLocked:        "une autre demande est ouverte sur le contact {role}",
			contact.FailureAccountGone:       "le compte {account} n'existe plus",
			contact.FailureNotInGoodStanding: "le compte {account} n'est plus à jour de ses paiements",
			contact.FailureAdminChanged:      "l'administrateur a changé entre-temps",
			contact.FailureAuthorityLost:     "{account} n'est plus le contact {role} qui a permis la demande",
			contact.FailureWorkflowLost:      "la demande n'a pas pu être menée à son terme ; rien n'a changé et vous pouvez la refaire",
		},
	},
}

func (l locale) role(r contact.Role) string {
	if name, ok := l.roles[r]; ok {
		return name
	}
	return string(r)
}

// date shows t in UTC, the way people write dates in the language.
func (l locale) date(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	t = t.UTC()
	return fmt.Sprintf(l.dateTime, t.Day(), l.months[t.Month()-1], t.Year(), t.Format("15:04"))
}

// failure words why a change could not be applied; "" when nothing failed.
func (l locale) failure(f contact.Failure) string {
	if f.Code == "" {
		return ""
	}
	format, ok := l.failures[f.Code]
	if !ok {
		return f.String()
	}
	return strings.NewReplacer("{role}", l.role(f.Role), "{account}", f.Account).Replace(format)
}
