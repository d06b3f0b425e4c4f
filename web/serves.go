package web

import "strings"

// Serves reports whether path is the console's: one of its screens or an asset. The local
// gateway hands these paths, which no API route serves, to Handler.
func Serves(path string) bool {
	return pages[path] || strings.HasPrefix(path, AssetPrefix)
}
