package config

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// AWS builds the SDK's configuration from the variables Lambda sets: the region, and the
// execution role's credentials. It replaces the SDK's config.LoadDefaultConfig, which links
// and initialises every credential source (profiles, SSO, STS, the instance metadata
// service) and costs a function a third of its size and most of its init; none of them
// runs on Lambda. Endpoints follow the SDK's variables, as the SAM CLI's local runs set
// them: AWS_ENDPOINT_URL for every service, AWS_ENDPOINT_URL_<SERVICE> (DYNAMODB, SESV2,
// SFN, EVENTBRIDGE) for one.
func AWS(getenv func(string) string) (aws.Config, error) {
	region := firstSet(getenv("AWS_REGION"), getenv("AWS_DEFAULT_REGION"))
	key, secret := getenv("AWS_ACCESS_KEY_ID"), getenv("AWS_SECRET_ACCESS_KEY")
	var missing []string
	if region == "" {
		missing = append(missing, "AWS_REGION")
	}
	if key == "" {
		missing = append(missing, "AWS_ACCESS_KEY_ID")
	}
	if secret == "" {
		missing = append(missing, "AWS_SECRET_ACCESS_KEY")
	}
	if len(missing) > 0 {
		return aws.Config{}, fmt.Errorf("AWS configuration: missing environment variables: %s", strings.Join(missing, ", "))
	}
	cfg := aws.Config{
		Region: region,
		// Lambda renews the role's credentials with each execution environment; the cache
		// only spares a lookup per call.
		Credentials:   aws.NewCredentialsCache(credentials.NewStaticCredentialsProvider(key, secret, getenv("AWS_SESSION_TOKEN"))),
		ConfigSources: []any{serviceEndpoints(getenv)},
	}
	if url := getenv("AWS_ENDPOINT_URL"); url != "" {
		cfg.BaseEndpoint = aws.String(url)
	}
	return cfg, nil
}

// serviceEndpoints answers the service clients' question for their own endpoint variable
// (AWS_ENDPOINT_URL_<SERVICE>), as the SDK's shared configuration would.
type serviceEndpoints func(string) string

// GetServiceBaseEndpoint implements the SDK's service endpoint source: sdkID is the
// service's SDK id ("DynamoDB", "SESv2", "SFN", "EventBridge").
func (getenv serviceEndpoints) GetServiceBaseEndpoint(_ context.Context, sdkID string) (string, bool, error) {
	url := getenv("AWS_ENDPOINT_URL_" + strings.ToUpper(strings.ReplaceAll(sdkID, " ", "_")))
	return url, url != "", nil
}

func firstSet(values ...string) string {
	for _, v := range values {
		if v != "" {
			return v
		}
	}
	return ""
}
