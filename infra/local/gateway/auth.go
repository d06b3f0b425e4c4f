package gateway

import (
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

// The local stack's bearer tokens are HS256 JWTs signed with this secret.
const (
	// SecretEnv names the variable holding the secret.
	SecretEnv = "LOCAL_JWT_SECRET"
	// DefaultSecret is the secret when SecretEnv is unset or empty.
	DefaultSecret = "local-dev-secret"
)

// SecretFromEnv returns the HS256 secret of the local stack's tokens: $LOCAL_JWT_SECRET, or
// DefaultSecret. Everything that signs or checks local tokens reads it here, so that the
// token command and the gateway cannot disagree. getenv is os.Getenv outside tests.
func SecretFromEnv(getenv func(string) string) []byte {
	if s := getenv(SecretEnv); s != "" {
		return []byte(s)
	}
	return []byte(DefaultSecret)
}

// DefaultIdentityClaim is the claim holding the caller's NIC handle unless
// Options.IdentityClaim names another.
const DefaultIdentityClaim = "sub"

// OperatorClaim is the claim of a local operator token that names the operator. On AWS the
// operator routes are authorized by IAM (SigV4) instead; locally the gateway turns this
// claim into the IAM identity API Gateway would put in the event.
const OperatorClaim = "operator"

// operatorName is what an IAM user name may hold, the principal an operator token stands for.
var operatorName = regexp.MustCompile(`^[A-Za-z0-9+=,.@_-]{1,64}$`)

// CheckOperatorName reports whether name can name an operator: an IAM user name, 1 to 64
// letters, digits or any of "+=,.@_-".
func CheckOperatorName(name string) error {
	if !operatorName.MatchString(name) {
		return fmt.Errorf("operator name %.70q is not an IAM user name (1 to 64 of A-Z a-z 0-9 +=,.@_-)", name)
	}
	return nil
}

// OperatorARN is the IAM principal the gateway gives the operator name on operator routes.
func OperatorARN(name string) string {
	return "arn:aws:iam::" + localAccountID + ":user/" + name
}

// operatorIdentity is the IAM description API Gateway puts in the event of a call signed by
// the IAM user name.
func operatorIdentity(name string) *events.APIGatewayV2HTTPRequestContextAuthorizerIAMDescription {
	id := "LOCAL" + strings.ToUpper(name)
	return &events.APIGatewayV2HTTPRequestContextAuthorizerIAMDescription{
		AccountID: localAccountID,
		CallerID:  id,
		UserARN:   OperatorARN(name),
		UserID:    id,
	}
}

var errNoToken = errors.New("no Authorization header")

// bearerToken returns the request's token. Like API Gateway's identity source, the
// Authorization header may hold the token alone or prefixed with "Bearer ".
func bearerToken(r *http.Request) (string, error) {
	credentials := strings.TrimSpace(r.Header.Get("Authorization"))
	if credentials == "" {
		return "", errNoToken
	}
	if scheme, token, ok := strings.Cut(credentials, " "); ok && strings.EqualFold(scheme, "Bearer") {
		credentials = strings.TrimSpace(token)
	}
	return credentials, nil
}

// authorizeCustomer plays the JWT authorizer of the customers' routes: a valid token whose
// identity claim is a non-empty string. A local token is HS256; with an issuer configured,
// any other algorithm is the issuer's to check. An operator token is no customer's, whatever
// else it holds: it is refused as a token without the identity claim.
func (g *Gateway) authorizeCustomer(r *http.Request, now time.Time) (*events.APIGatewayV2HTTPRequestContextAuthorizerDescription, error) {
	token, err := bearerToken(r)
	if err != nil {
		return nil, err
	}
	var claims map[string]any
	if g.issuer != nil && algorithm(token) != "HS256" {
		claims, err = g.issuer.verify(token, now)
	} else {
		claims, err = verify(g.secret, token, now)
	}
	if err != nil {
		return nil, err
	}
	_, isOperator := claims[OperatorClaim]
	if nic, ok := claims[g.identityClaim].(string); !ok || nic == "" || isOperator {
		return nil, tokenError(fmt.Sprintf("the token has no %s claim", g.identityClaim))
	}
	return &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{
		JWT: &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{Claims: stringifyClaims(claims)},
	}, nil
}

// authorizeOperator plays IAM authorization of the operator routes: a valid operator token
// stands for a signed call of the IAM user it names. Anything else is a call IAM refuses.
func (g *Gateway) authorizeOperator(r *http.Request, now time.Time) (*events.APIGatewayV2HTTPRequestContextAuthorizerDescription, error) {
	token, err := bearerToken(r)
	if err != nil {
		return nil, err
	}
	claims, err := verify(g.secret, token, now)
	if err != nil {
		return nil, err
	}
	name, ok := claims[OperatorClaim].(string)
	if !ok {
		return nil, errors.New("not an operator token")
	}
	if err := CheckOperatorName(name); err != nil {
		return nil, err
	}
	return &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{IAM: operatorIdentity(name)}, nil
}
