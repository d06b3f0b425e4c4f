package mail

import (
	"fmt"
	"time"

	"github.com/servicecontacts/servicecontacts/shared/contact"
)

// locale holds the words the templates get as values rather than write themselves.
type locale struct {
	roles  map[contact.Role]string
	months [12]string
	// dateTime formats day, month name, year and hh:mm.
	dateTime string
}

var locales = map[contact.Language]locale{
	contact.English: {
		roles:    map[contact.Role]string{contact.Admin: "admin", contact.Tech: "tech", contact.Billing: "billing"},
		months:   [12]string{"January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"},
		dateTime: "%d %s %d at %s UTC",
	},
	contact.Italian: {
		roles:    map[contact.Role]string{contact.Admin: "amministratore", contact.Tech: "tecnico", contact.Billing: "di fatturazione"},
		months:   [12]string{"gennaio", "febbraio", "marzo", "aprile", "maggio", "giugno", "luglio", "agosto", "settembre", "ottobre", "novembre", "dicembre"},
		dateTime: "%d %s %d alle %s UTC",
	},
	contact.French: {
		roles:    map[contact.Role]string{contact.Admin: "administrateur", contact.Tech: "technique", contact.Billing: "facturation"},
		months:   [12]string{"janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre", "novembre", "décembre"},
		dateTime: "%d %s %d à %s UTC",
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
