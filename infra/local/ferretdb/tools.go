//go:build tools

// Package tools pins FerretDB so that `go build` of its cmd works from this module.
// A plain `go install ...@v1.24.2` panics at start: the module lacks build/version/version.txt.
package tools

import _ "github.com/FerretDB/FerretDB/cmd/ferretdb"
