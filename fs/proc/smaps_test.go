package proc

import (
	"strings"
	"testing"

	"pangolin/platform"
	"pangolin/sentry/mm"
)

func TestFormatSmaps(t *testing.T) {
	e := mm.SmapEntry{
		MapEntry: mm.MapEntry{Start: 0x1000, End: 0x4000, Perms: platform.ReadWrite, Private: true},
		MayRead:  true, MayWrite: true, MayExec: true,
		Rss: 8192, Pss: 8192 << mm.PssShift, PssDirty: 8192 << mm.PssShift, PrivateDirty: 8192, Anonymous: 8192,
	}
	got := string(formatSmaps([]mm.SmapEntry{e}))
	lines := strings.Split(strings.TrimSuffix(got, "\n"), "\n")
	if len(lines) != 25 {
		t.Fatalf("%d lines, want 25:\n%s", len(lines), got)
	}
	for _, want := range []string{
		"00001000-00004000 rw-p 00000000 00:00 0 \n",
		"\nSize:                 12 kB\n",
		"\nRss:                   8 kB\nPss:                   8 kB\nPss_Dirty:             8 kB\n",
		"\nPrivate_Dirty:         8 kB\nReferenced:            8 kB\nAnonymous:             8 kB\n",
		"\nTHPeligible:           0\nVmFlags: rd wr mr mw me ac \n",
	} {
		if !strings.Contains("\n"+got, want) {
			t.Errorf("missing %q in\n%s", want, got)
		}
	}
}
