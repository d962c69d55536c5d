package linux

import (
	"testing"

	"pangolin/sentry/kernel"
)

// TestTable checks the merged table: every implemented entry has a name
// and a handler, every unimplemented one has neither a handler nor a
// missing name, and names agree with the amd64 numbering.
func TestTable(t *testing.T) {
	tbl := Table()
	for nr, e := range tbl.Entries {
		if e.Name == "" {
			t.Errorf("syscall %d has no name", nr)
		}
		if want, ok := syscallNames[nr]; ok && want != e.Name {
			t.Errorf("syscall %d is named %q, amd64 calls it %q", nr, e.Name, want)
		}
		switch {
		case e.Support == kernel.Unimplemented && e.Fn != nil:
			t.Errorf("%s: unimplemented but has a handler", e.Name)
		case e.Support != kernel.Unimplemented && e.Fn == nil:
			t.Errorf("%s: %v but has no handler", e.Name, e.Support)
		}
	}
}
