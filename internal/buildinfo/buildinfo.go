// Package buildinfo is the version of the adharvest binary that is running,
// read from what the Go toolchain stamps into every binary, so that the
// manifest, the report and each Parquet file name the build that wrote them.
//
// `go build` and `go install` in a git checkout stamp the commit (since Go
// 1.24 also a version: the tag, or a pseudo-version such as
// v0.0.0-20240101120000-57b527b510bc, with +dirty for uncommitted changes);
// `go install adharvest@v1.2.3` stamps v1.2.3. `go run`, `go test` and builds
// with -buildvcs=false stamp no commit: the version is then "devel". A build
// from a source archive without .git can set the version itself:
//
//	go build -ldflags "-X adharvest/internal/buildinfo.version=v1.2.3" .
package buildinfo

import (
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
)

// version, when set with -ldflags -X, overrides the module version.
var version string

// Info is what a build says about itself.
type Info struct {
	// Version is a release tag (v1.2.3), a Go pseudo-version
	// (v0.0.0-20240101120000-57b527b510bc+dirty), or "devel" when the build
	// stamped none.
	Version string
	// Revision is the commit, shortened to 12 hex digits; "" when unknown.
	Revision string
	// Modified is set when the commit's tree had uncommitted changes.
	Modified bool
	// Go is the toolchain that built the binary (go1.26.8).
	Go string
}

var (
	once sync.Once
	info Info
)

// Read is the running binary's Info.
func Read() Info {
	once.Do(func() {
		bi, ok := debug.ReadBuildInfo()
		if !ok {
			bi = nil
		}
		info = From(bi, version)
	})
	return info
}

// From reads bi (nil when the binary has none); stamped, when not empty,
// is the version set at link time and wins over the module version.
func From(bi *debug.BuildInfo, stamped string) Info {
	i := Info{Version: "devel", Go: runtime.Version()}
	if bi == nil {
		if stamped != "" {
			i.Version = stamped
		}
		return i
	}
	if bi.GoVersion != "" {
		i.Go = bi.GoVersion
	}
	if v := bi.Main.Version; v != "" && v != "(devel)" {
		i.Version = v
	}
	if stamped != "" {
		i.Version = stamped
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			i.Revision = s.Value
			if len(i.Revision) > 12 {
				i.Revision = i.Revision[:12]
			}
		case "vcs.modified":
			i.Modified = s.Value == "true"
		}
	}
	return i
}

// Build is the commit the binary was built from, with "+dirty" when its
// tree had uncommitted changes: "57b527b510bc+dirty"; "" when unknown.
func (i Info) Build() string {
	if i.Revision == "" {
		return ""
	}
	if i.Modified {
		return i.Revision + "+dirty"
	}
	return i.Revision
}

// String is the version as the manifest records it: the version, followed
// by the build in parentheses unless the version already names the commit
// (a pseudo-version does): "v1.2.3 (57b527b510bc)",
// "v0.0.0-20240101120000-57b527b510bc+dirty", "devel (57b527b510bc+dirty)",
// or "devel" when nothing is known.
func (i Info) String() string {
	b := i.Build()
	if b == "" || strings.Contains(i.Version, i.Revision) {
		return i.Version
	}
	return i.Version + " (" + b + ")"
}

// CreatedBy is a Parquet file's created_by for application, in the format's
// own form "<application> version <version> (build <commit>)", the build
// part left out when unknown.
func (i Info) CreatedBy(application string) string {
	s := application + " version " + i.Version
	if b := i.Build(); b != "" {
		s += " (build " + b + ")"
	}
	return s
}
