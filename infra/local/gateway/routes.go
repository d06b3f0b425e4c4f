package gateway

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/servicecontacts/servicecontacts/shared/api"
)

// routeTable matches requests against routes in API Gateway's path template syntax, where a
// "{name}" segment matches any one non-empty segment.
type routeTable []boundRoute

type boundRoute struct {
	route    api.Route
	segments []string
	fn       Function
}

// matched is a route found for a request, with its decoded path parameters.
type matched struct {
	boundRoute
	params map[string]string
}

// lookupResult tells a route found from a path that only other methods serve and from a
// path no route serves at all.
type lookupResult int

const (
	noPath lookupResult = iota
	noMethod
	routeFound
)

func newRouteTable(routes []api.Route, functions map[string]Function) (routeTable, error) {
	table := make(routeTable, 0, len(routes))
	seen := make(map[string]bool, len(routes))
	for _, r := range routes {
		fn := functions[r.Function]
		if fn == nil {
			return nil, fmt.Errorf("route %q: no function %q", r.Key(), r.Function)
		}
		if !strings.HasPrefix(r.Path, "/") {
			return nil, fmt.Errorf("route %q: the path does not start with /", r.Key())
		}
		if seen[r.Key()] {
			return nil, fmt.Errorf("route %q is declared twice", r.Key())
		}
		seen[r.Key()] = true
		table = append(table, boundRoute{route: r, segments: strings.Split(r.Path[1:], "/"), fn: fn})
	}
	return table, nil
}

// lookup finds the route for method and the request's escaped path.
func (t routeTable) lookup(method, escapedPath string) (matched, lookupResult) {
	rest, ok := strings.CutPrefix(escapedPath, "/")
	if !ok {
		return matched{}, noPath
	}
	segments := strings.Split(rest, "/")
	result := noPath
	for _, candidate := range t {
		params, ok := matchSegments(candidate.segments, segments)
		if !ok {
			continue
		}
		if candidate.route.Method != method {
			result = noMethod
			continue
		}
		return matched{boundRoute: candidate, params: params}, routeFound
	}
	return matched{}, result
}

// matchSegments matches escaped path segments against a template, each segment decoded
// before it is compared, so that "%2F" stays inside one path parameter.
func matchSegments(template, segments []string) (map[string]string, bool) {
	if len(template) != len(segments) {
		return nil, false
	}
	var params map[string]string
	for i, want := range template {
		got, err := url.PathUnescape(segments[i])
		if err != nil {
			return nil, false
		}
		name, isParam := templateParam(want)
		if !isParam {
			if got != want {
				return nil, false
			}
			continue
		}
		if got == "" {
			return nil, false
		}
		if params == nil {
			params = make(map[string]string, len(template))
		}
		params[name] = got
	}
	return params, true
}

// templateParam returns the name of a "{name}" template segment.
func templateParam(segment string) (string, bool) {
	inner, ok := strings.CutPrefix(segment, "{")
	if !ok {
		return "", false
	}
	return strings.CutSuffix(inner, "}")
}
