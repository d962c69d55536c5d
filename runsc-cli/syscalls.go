package main

import (
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strconv"

	flag "github.com/spf13/pflag"

	goferfilter "pangolin/gofer/filter"
	"pangolin/seccomp"
	"pangolin/sentry/syscalls/linux"
)

func init() {
	register(&command{
		name:    "syscalls",
		summary: "list the syscalls the sentry implements, or the host syscalls it and the gofer may make",
		synopsis: `pangolin syscalls [--all] [--json]
pangolin syscalls --sentry [--platform NAME] [--network none|sandbox] [--json]
pangolin syscalls --gofer [--json]

Without --sentry or --gofer: the application syscalls the sentry implements,
with their support level. With --sentry or --gofer: the host syscalls that
process may make once confined (its seccomp allowlist), with the argument
conditions and the reason for each; any other host syscall kills it.
--network sandbox shows the sentry of a sandbox with one interface, whose
packet socket the rules name by descriptor.`,
		run: runSyscalls,
	})
}

func runSyscalls(args []string) int {
	fs := flag.NewFlagSet("syscalls", flag.ContinueOnError)
	asJSON := fs.Bool("json", false, "print JSON: [{nr, name, support, note}]")
	all := fs.Bool("all", false, "include unimplemented syscalls")
	sentry := fs.Bool("sentry", false, "print the sentry's host seccomp allowlist instead (with --platform's rules)")
	gofer := fs.Bool("gofer", false, "print the gofer's host seccomp allowlist instead")
	plat := fs.String("platform", defaultPlatform(), "platform whose host syscalls --sentry includes ("+platformNames()+")")
	network := fs.String("network", networkNone, "network mode whose host syscalls --sentry includes (none or sandbox)")
	if err := fs.Parse(args); err != nil {
		return 1
	}
	if *sentry || *gofer {
		if err := checkNetworkMode(*network); err != nil {
			return errorf(1, "syscalls: %v", err)
		}
		return printHostAllowlist(*sentry, *gofer, *plat, *network, *asJSON)
	}
	tbl := linux.Table()
	nrs := make([]int, 0, len(tbl.Entries))
	for nr := range tbl.Entries {
		nrs = append(nrs, int(nr))
	}
	sort.Ints(nrs)
	type row struct {
		Nr      int    `json:"nr"`
		Name    string `json:"name"`
		Support string `json:"support"`
		Note    string `json:"note"`
	}
	var rows []row
	for _, nr := range nrs {
		e := tbl.Entries[uintptr(nr)]
		if !*all && !*asJSON && e.Fn == nil {
			continue
		}
		sup := e.Support.String()
		if e.Fn == nil {
			sup = "unimplemented"
		}
		rows = append(rows, row{nr, e.Name, sup, e.Note})
	}
	if *asJSON {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", " ")
		if err := enc.Encode(rows); err != nil {
			return 1
		}
		return 0
	}
	for _, r := range rows {
		fmt.Printf("%3d %-24s %-13s %s\n", r.Nr, r.Name, r.Support, r.Note)
	}
	return 0
}

// printHostAllowlist prints the sentry's and/or the gofer's host seccomp
// allowlist, as the README's security section shows it.
func printHostAllowlist(sentry, gofer bool, plat, network string, asJSON bool) int {
	type list struct {
		Kind  string         `json:"kind"`
		Rules []seccomp.Rule `json:"rules"`
	}
	var lists []list
	if sentry {
		var netFDs []int
		kind := "sentry (platform " + plat + ", OCI control socket on fd " + strconv.Itoa(ociControlFD) + ", network " + network
		if network == networkSandbox {
			netFDs = []int{examplePacketFD}
			kind += ", one interface's packet socket on fd " + strconv.Itoa(examplePacketFD)
		}
		rules, err := sentryRules(plat, ociControlFD, netFDs)
		if err != nil {
			return errorf(1, "syscalls: %v", err)
		}
		lists = append(lists, list{kind + ")", rules})
	}
	if gofer {
		lists = append(lists, list{"gofer", goferfilter.Rules()})
	}
	if asJSON {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", " ")
		if err := enc.Encode(lists); err != nil {
			return 1
		}
		return 0
	}
	for i, l := range lists {
		if i > 0 {
			fmt.Println()
		}
		fmt.Printf("# %s: host syscall allowlist\n", l.Kind)
		seccomp.Format(os.Stdout, l.Rules)
	}
	return 0
}
