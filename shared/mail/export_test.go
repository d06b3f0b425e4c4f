package mail

// The fixtures of the rendering tests, for the SES wire test (package mail_test), which
// sends every email through package ses, which imports this one.
var (
	BaseURL      = baseURL
	Notices      = notices
	AboutID      = aboutID
	IsTokenKind  = isTokenKind
	AllKinds     = allKinds
	AllLanguages = allLanguages
)
