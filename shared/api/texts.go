package api

import (
	"sort"
	"strconv"
	"strings"

	"github.com/servicecontacts/servicecontacts/shared/contact"
)

// texts are the words of the confirmation pages in one language. Sentences with blanks
// are fmt formats with indexed verbs, so that each language orders them as it needs.
type texts struct {
	ConfirmTitle, ResultTitle, ErrorTitle string
	// Summary: 1 requester, 2 role name, 3 service id, 4 service type, 5 from, 6 to.
	Summary                                                               string
	Service, Type, Role, From, To, RequestedBy, Requested, Expires, State string
	Parties, Accept, Refuse, ErrorCode                                    string
	Question                                                              string // 1 the reader's NIC handle
	AlreadyAnswered, Closed                                               string // Closed: 1 state name
	Accepted, WaitingFor, Applying, Refused                               string // WaitingFor: 1 list of NIC handles
	Roles                                                                 map[contact.Role]string
	States                                                                map[contact.State]string
	Statuses                                                              map[contact.PartyStatus]string
	// The batch pages. BatchSummary: 1 requester, 2 number of requests; BatchQuestion: 1
	// the reader's NIC handle; BatchDone: 1 how many requests the answer answered.
	BatchTitle, BatchSummary, BatchQuestion, AcceptAll, RefuseAll string
	BatchNothingLeft, BatchDone, NotAnswered                      string
	// ErrorByCode explains the errors a link can meet; ErrorByStatus covers the others.
	ErrorByCode   map[string]string
	ErrorByStatus map[int]string
}

var languages = map[contact.Language]texts{
	contact.English: {
		ConfirmTitle: "Confirm a contact change",
		ResultTitle:  "Contact change",
		ErrorTitle:   "This link cannot be used",
		Summary:      "%[1]s asks that the %[2]s contact of %[4]s %[3]s pass from %[5]s to %[6]s.",
		Service:      "Service", Type: "Type", Role: "Role", From: "Current contact", To: "New contact",
		RequestedBy: "Requested by", Requested: "Requested on", Expires: "Expires on", State: "State",
		Parties: "Confirmations", Accept: "Accept", Refuse: "Refuse", ErrorCode: "Error code",
		Question:        "Do you, %[1]s, accept this change?",
		AlreadyAnswered: "You have already answered this request.",
		Closed:          "This request is %[1]s: it can no longer be answered.",
		Accepted:        "Thank you: your acceptance is recorded.",
		WaitingFor:      "Still waiting for: %[1]s.",
		Applying:        "Everyone has accepted: the change is being applied.",
		Refused:         "You refused the change: the request is closed and nothing changes.",
		Roles:           map[contact.Role]string{contact.Admin: "administrative", contact.Tech: "technical", contact.Billing: "billing"},
		States: map[contact.State]string{contact.Pending: "pending", contact.Applying: "being applied", contact.Done: "done",
			contact.Refused: "refused", contact.Expired: "expired", contact.Cancelled: "cancelled", contact.Failed: "failed"},
		Statuses:      map[contact.PartyStatus]string{contact.Waiting: "waiting", contact.Accepted: "accepted", contact.Declined: "refused"},
		BatchTitle:    "Confirm several contact changes",
		BatchSummary:  "%[1]s asks for these %[2]d contact changes, each of which needs your confirmation:",
		BatchQuestion: "Do you, %[1]s, accept all of these changes?",
		AcceptAll:     "Accept all", RefuseAll: "Refuse all",
		BatchNothingLeft: "None of these changes is waiting for your answer any more.",
		BatchDone:        "Your answer is recorded for %[1]d of these changes.",
		NotAnswered:      "not answered",
		ErrorByCode: map[string]string{
			"missing_token":     "The link is incomplete: its confirmation code is missing. Open the link from the email again, or copy it whole.",
			"invalid_token":     "The confirmation code in this link is not valid for this request. Open the link from the email again, or copy it whole.",
			"token_replaced":    "This link was replaced by a newer email. Use the link in the latest email you received.",
			"token_used":        "This link was already used: your answer is recorded.",
			"request_expired":   "This request has expired: it was not confirmed in time. Ask for a new one if needed.",
			"request_closed":    "This request is closed: it can no longer be accepted or refused.",
			"request_not_found": "We found no contact-change request for this link. Check that you copied the whole link.",
			"invalid_decision":  "Choose Accept or Refuse.",
			"batch_not_found":   "We found no batch of contact changes for this link. Check that you copied the whole link.",
		},
		ErrorByStatus: map[int]string{
			400: "The request could not be understood. Open the link from the email again.",
			403: "The confirmation code in this link is not valid for this request.",
			404: "We found no contact-change request for this link. Check that you copied the whole link.",
			409: "The request changed in the meantime. Open the link again to see where it stands.",
			410: "This link is no longer valid.",
			415: "The form was sent in a format this page does not read.",
			422: "The change can no longer be made: one of its conditions no longer holds.",
			429: "Too many attempts. Please wait a moment and try again.",
			500: "Something went wrong on our side. Please try again later.",
			503: "The service is busy. Please try again in a moment.",
		},
	},
	contact.Italian: {
		ConfirmTitle: "Conferma una modifica dei contatti",
		ResultTitle:  "Modifica dei contatti",
		ErrorTitle:   "Questo link non può essere usato",
		Summary:      "%[1]s chiede che il contatto %[2]s del servizio %[4]s %[3]s passi da %[5]s a %[6]s.",
		Service:      "Servizio", Type: "Tipo", Role: "Ruolo", From: "Contatto attuale", To: "Nuovo contatto",
		RequestedBy: "Richiesto da", Requested: "Richiesto il", Expires: "Scade il", State: "Stato",
		Parties: "Conferme", Accept: "Accetta", Refuse: "Rifiuta", ErrorCode: "Codice errore",
		Question:        "Tu, %[1]s, accetti questa modifica?",
		AlreadyAnswered: "Hai già risposto a questa richiesta.",
		Closed:          "Questa richiesta è %[1]s: non è più possibile rispondere.",
		Accepted:        "Grazie: la tua accettazione è stata registrata.",
		WaitingFor:      "In attesa di: %[1]s.",
		Applying:        "Tutti hanno accettato: la modifica è in corso di applicazione.",
		Refused:         "Hai rifiutato la modifica: la richiesta è chiusa e non cambia nulla.",
		Roles:           map[contact.Role]string{contact.Admin: "amministrativo", contact.Tech: "tecnico", contact.Billing: "di fatturazione"},
		States: map[contact.State]string{contact.Pending: "in attesa", contact.Applying: "in corso di applicazione", contact.Done: "completata",
			contact.Refused: "rifiutata", contact.Expired: "scaduta", contact.Cancelled: "annullata", contact.Failed: "non riuscita"},
		Statuses:      map[contact.PartyStatus]string{contact.Waiting: "in attesa", contact.Accepted: "accettato", contact.Declined: "rifiutato"},
		BatchTitle:    "Conferma più modifiche dei contatti",
		BatchSummary:  "%[1]s chiede queste %[2]d modifiche dei contatti, ognuna delle quali richiede la tua conferma:",
		BatchQuestion: "Tu, %[1]s, accetti tutte queste modifiche?",
		AcceptAll:     "Accetta tutte", RefuseAll: "Rifiuta tutte",
		BatchNothingLeft: "Nessuna di queste modifiche attende più la tua risposta.",
		BatchDone:        "La tua risposta è registrata per %[1]d di queste modifiche.",
		NotAnswered:      "senza risposta",
		ErrorByCode: map[string]string{
			"missing_token":     "Il link è incompleto: manca il codice di conferma. Apri di nuovo il link dall'email o copialo per intero.",
			"invalid_token":     "Il codice di conferma di questo link non è valido per questa richiesta. Apri di nuovo il link dall'email o copialo per intero.",
			"token_replaced":    "Questo link è stato sostituito da un'email più recente. Usa il link dell'ultima email ricevuta.",
			"token_used":        "Questo link è già stato usato: la tua risposta è registrata.",
			"request_expired":   "Questa richiesta è scaduta: non è stata confermata in tempo. Se serve, creane una nuova.",
			"request_closed":    "Questa richiesta è chiusa: non può più essere accettata né rifiutata.",
			"request_not_found": "Non esiste alcuna richiesta di modifica dei contatti per questo link. Verifica di averlo copiato per intero.",
			"invalid_decision":  "Scegli Accetta o Rifiuta.",
			"batch_not_found":   "Non esiste alcun gruppo di modifiche dei contatti per questo link. Verifica di averlo copiato per intero.",
		},
		ErrorByStatus: map[int]string{
			400: "La richiesta non è comprensibile. Apri di nuovo il link dall'email.",
			403: "Il codice di conferma di questo link non è valido per questa richiesta.",
			404: "Non esiste alcuna richiesta di modifica dei contatti per questo link. Verifica di averlo copiato per intero.",
			409: "La richiesta è cambiata nel frattempo. Apri di nuovo il link per vedere a che punto è.",
			410: "Questo link non è più valido.",
			415: "Il modulo è stato inviato in un formato che questa pagina non legge.",
			422: "La modifica non può più essere fatta: una delle sue condizioni non è più soddisfatta.",
			429: "Troppi tentativi. Attendi un momento e riprova.",
			500: "Si è verificato un errore da parte nostra. Riprova più tardi.",
			503: "Il servizio è occupato. Riprova tra un momento.",
		},
	},
	contact.French: {
		ConfirmTitle: "Confirmer un changement de contact",
		ResultTitle:  "Changement de contact",
		ErrorTitle:   "Ce lien ne peut pas être utilisé",
		Summary:      "%[1]s demande que le contact %[2]s du service %[4]s %[3]s passe de %[5]s à %[6]s.",
		Service:      "Service", Type: "Type", Role: "Rôle", From: "Contact actuel", To: "Nouveau contact",
		RequestedBy: "Demandé par", Requested: "Demandé le", Expires: "Expire le", State: "État",
		Parties: "Confirmations", Accept: "Accepter", Refuse: "Refuser", ErrorCode: "Code d'erreur",
		Question:        "Acceptez-vous, %[1]s, ce changement ?",
		AlreadyAnswered: "Vous avez déjà répondu à cette demande.",
		Closed:          "Cette demande est %[1]s : il n'est plus possible d'y répondre.",
		Accepted:        "Merci : votre acceptation est enregistrée.",
		WaitingFor:      "En attente de : %[1]s.",
		Applying:        "Tout le monde a accepté : le changement est en cours d'application.",
		Refused:         "Vous avez refusé le changement : la demande est close et rien ne change.",
		Roles:           map[contact.Role]string{contact.Admin: "administrateur", contact.Tech: "technique", contact.Billing: "de facturation"},
		States: map[contact.State]string{contact.Pending: "en attente", contact.Applying: "en cours d'application", contact.Done: "terminée",
			contact.Refused: "refusée", contact.Expired: "expirée", contact.Cancelled: "annulée", contact.Failed: "échouée"},
		Statuses:      map[contact.PartyStatus]string{contact.Waiting: "en attente", contact.Accepted: "accepté", contact.Declined: "refusé"},
		BatchTitle:    "Confirmer plusieurs changements de contact",
		BatchSummary:  "%[1]s demande ces %[2]d changements de contact, qui ont chacun besoin de votre confirmation :",
		BatchQuestion: "Acceptez-vous, %[1]s, tous ces changements ?",
		AcceptAll:     "Tout accepter", RefuseAll: "Tout refuser",
		BatchNothingLeft: "Aucun de ces changements n'attend plus votre réponse.",
		BatchDone:        "Votre réponse est enregistrée pour %[1]d de ces changements.",
		NotAnswered:      "sans réponse",
		ErrorByCode: map[string]string{
			"missing_token":     "Le lien est incomplet : le code de confirmation manque. Ouvrez à nouveau le lien depuis l'e-mail, ou copiez-le en entier.",
			"invalid_token":     "Le code de confirmation de ce lien n'est pas valable pour cette demande. Ouvrez à nouveau le lien depuis l'e-mail, ou copiez-le en entier.",
			"token_replaced":    "Ce lien a été remplacé par un e-mail plus récent. Utilisez le lien du dernier e-mail reçu.",
			"token_used":        "Ce lien a déjà été utilisé : votre réponse est enregistrée.",
			"request_expired":   "Cette demande a expiré : elle n'a pas été confirmée à temps. Faites-en une nouvelle si besoin.",
			"request_closed":    "Cette demande est close : elle ne peut plus être acceptée ni refusée.",
			"request_not_found": "Aucune demande de changement de contact ne correspond à ce lien. Vérifiez que vous l'avez copié en entier.",
			"invalid_decision":  "Choisissez Accepter ou Refuser.",
			"batch_not_found":   "Aucun lot de changements de contact ne correspond à ce lien. Vérifiez que vous l'avez copié en entier.",
		},
		ErrorByStatus: map[int]string{
			400: "La demande n'a pas pu être comprise. Ouvrez à nouveau le lien depuis l'e-mail.",
			403: "Le code de confirmation de ce lien n'est pas valable pour cette demande.",
			404: "Aucune demande de changement de contact ne correspond à ce lien. Vérifiez que vous l'avez copié en entier.",
			409: "La demande a changé entre-temps. Ouvrez à nouveau le lien pour voir où elle en est.",
			410: "Ce lien n'est plus valable.",
			415: "Le formulaire a été envoyé dans un format que cette page ne lit pas.",
			422: "Le changement ne peut plus être fait : l'une de ses conditions n'est plus remplie.",
			429: "Trop de tentatives. Patientez un instant puis réessayez.",
			500: "Une erreur s'est produite de notre côté. Réessayez plus tard.",
			503: "Le service est occupé. Réessayez dans un instant.",
		},
	},
}

// supported reports whether the pages speak s, and returns it as a Language.
func supported(s string) (contact.Language, bool) {
	l := contact.Language(strings.ToLower(strings.TrimSpace(s)))
	_, ok := languages[l]
	return l, ok
}

// preferredLanguage picks the supported language the Accept-Language header ranks
// highest ("fr-CH, fr;q=0.9, en;q=0.8"), by primary subtag; English when none fits.
func preferredLanguage(acceptLanguage string) contact.Language {
	type ranked struct {
		lang    contact.Language
		quality float64
	}
	var found []ranked
	for _, part := range strings.Split(acceptLanguage, ",") {
		tag, params, _ := strings.Cut(part, ";")
		primary, _, _ := strings.Cut(strings.TrimSpace(tag), "-")
		l, ok := supported(primary)
		if !ok {
			continue
		}
		q := 1.0
		if v, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
			parsed, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil || parsed < 0 || parsed > 1 {
				continue
			}
			q = parsed
		}
		if q > 0 {
			found = append(found, ranked{l, q})
		}
	}
	if len(found) == 0 {
		return contact.English
	}
	sort.SliceStable(found, func(a, b int) bool { return found[a].quality > found[b].quality })
	return found[0].lang
}
