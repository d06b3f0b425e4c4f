package api

// Functions: each Lambda function serves the routes that name it.
const (
	FunctionList    = "list"
	FunctionRequest = "request"
	FunctionConfirm = "confirm"
	FunctionResend  = "resend"
	// FunctionOperator serves the operator API: the provider's systems and support staff.
	FunctionOperator = "operator"
)

// Route is one route of the HTTP API: its method, its path template in API Gateway's syntax
// and the function behind it. Public routes (the emailed link) have no authorizer: their
// token authenticates the caller. Operator routes are authorized by IAM (SigV4) on AWS,
// never by the customers' JWT authorizer.
type Route struct {
	Method   string
	Path     string
	Function string
	Public   bool
	Operator bool
}

// Key is the route key API Gateway puts in events: "GET /me/services".
func (r Route) Key() string { return r.Method + " " + r.Path }

// Routes is the whole HTTP API. The OpenAPI document, the SAM template and the local router
// are tested to agree with it.
var Routes = []Route{
	{Method: "GET", Path: "/me/services", Function: FunctionList},
	{Method: "GET", Path: "/me/contact-changes", Function: FunctionList},
	{Method: "GET", Path: "/me/contact-changes/{id}", Function: FunctionList},
	{Method: "POST", Path: "/services/{serviceId}/contact-changes", Function: FunctionRequest},
	{Method: "POST", Path: "/me/contact-changes/{id}/accept", Function: FunctionConfirm},
	{Method: "POST", Path: "/me/contact-changes/{id}/refuse", Function: FunctionConfirm},
	{Method: "POST", Path: "/me/contact-changes/{id}/cancel", Function: FunctionConfirm},
	{Method: "POST", Path: "/me/contact-changes/{id}/resend", Function: FunctionResend},
	{Method: "GET", Path: "/contact-changes/{id}/confirm", Function: FunctionConfirm, Public: true},
	{Method: "POST", Path: "/contact-changes/{id}/confirm", Function: FunctionConfirm, Public: true},

	{Method: "PUT", Path: "/operator/accounts/{nic}", Function: FunctionOperator, Operator: true},
	{Method: "PATCH", Path: "/operator/accounts/{nic}", Function: FunctionOperator, Operator: true},
	{Method: "PUT", Path: "/operator/services/{serviceId}", Function: FunctionOperator, Operator: true},
	{Method: "DELETE", Path: "/operator/services/{serviceId}", Function: FunctionOperator, Operator: true},
	{Method: "GET", Path: "/operator/contact-changes", Function: FunctionOperator, Operator: true},
	{Method: "GET", Path: "/operator/contact-changes/{id}", Function: FunctionOperator, Operator: true},
	{Method: "POST", Path: "/operator/contact-changes/{id}/cancel", Function: FunctionOperator, Operator: true},
	{Method: "POST", Path: "/operator/contact-changes/{id}/resend", Function: FunctionOperator, Operator: true},
	// Appended, not sorted: tests name routes by their index.
	{Method: "GET", Path: "/me", Function: FunctionList},
	{Method: "POST", Path: "/me/contact-change-batches", Function: FunctionRequest},
	{Method: "GET", Path: "/me/contact-change-batches/{id}", Function: FunctionList},
	{Method: "POST", Path: "/me/contact-change-batches/{id}/accept", Function: FunctionConfirm},
	{Method: "POST", Path: "/me/contact-change-batches/{id}/refuse", Function: FunctionConfirm},
	{Method: "POST", Path: "/me/contact-change-batches/{id}/resend", Function: FunctionResend},
	{Method: "GET", Path: "/contact-change-batches/{id}/confirm", Function: FunctionConfirm, Public: true},
	{Method: "POST", Path: "/contact-change-batches/{id}/confirm", Function: FunctionConfirm, Public: true},
}
