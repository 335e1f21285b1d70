package buildinfo

import (
	"runtime/debug"
	"testing"
)

func TestFrom(t *testing.T) {
	vcs := func(rev, modified string) []debug.BuildSetting {
		return []debug.BuildSetting{{Key: "vcs", Value: "git"}, {Key: "vcs.revision", Value: rev}, {Key: "vcs.modified", Value: modified}}
	}
	const rev = "57b527b510bcaa80b8fdf6a2f23aa78cd7abdc20"
	for _, tc := range []struct {
		name             string
		bi               *debug.BuildInfo
		stamped          string
		str, build, crBy string
	}{
		{"go run, go test, -buildvcs=false", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}, "",
			"devel", "", "adharvest version devel"},
		{"no build info at all", nil, "", "devel", "", "adharvest version devel"},
		{"go build in a checkout with changes (Go 1.24+)", &debug.BuildInfo{Main: debug.Module{Version: "v0.0.0-20261201183122-57b527b510bc+dirty"}, Settings: vcs(rev, "true")}, "",
			"v0.0.0-20261201183122-57b527b510bc+dirty", "57b527b510bc+dirty", "adharvest version v0.0.0-20261201183122-57b527b510bc+dirty (build 57b527b510bc+dirty)"},
		{"a tagged, clean checkout", &debug.BuildInfo{Main: debug.Module{Version: "v1.2.3"}, Settings: vcs(rev, "false")}, "",
			"v1.2.3 (57b527b510bc)", "57b527b510bc", "adharvest version v1.2.3 (build 57b527b510bc)"},
		{"an older Go: commit but no version", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: vcs(rev, "true")}, "",
			"devel (57b527b510bc+dirty)", "57b527b510bc+dirty", "adharvest version devel (build 57b527b510bc+dirty)"},
		{"go install adharvest@v1.2.3", &debug.BuildInfo{Main: debug.Module{Version: "v1.2.3"}}, "",
			"v1.2.3", "", "adharvest version v1.2.3"},
		{"-ldflags -X from a source archive", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}, "v1.2.4",
			"v1.2.4", "", "adharvest version v1.2.4"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			i := From(tc.bi, tc.stamped)
			if i.String() != tc.str || i.Build() != tc.build || i.CreatedBy("adharvest") != tc.crBy {
				t.Errorf("String %q Build %q CreatedBy %q\nwant   %q       %q          %q", i.String(), i.Build(), i.CreatedBy("adharvest"), tc.str, tc.build, tc.crBy)
			}
		})
	}
}
