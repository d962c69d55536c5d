package main

import (
	"encoding/json"
	"fmt"
	"os"
	"sort"

	flag "github.com/spf13/pflag"

	"pangolin/sentry/syscalls/linux"
)

func init() {
	register(&command{
		name:    "syscalls",
		summary: "list the syscalls the sentry implements and how completely",
		run:     runSyscalls,
	})
}

func runSyscalls(args []string) int {
	fs := flag.NewFlagSet("syscalls", flag.ContinueOnError)
	asJSON := fs.Bool("json", false, "print JSON: [{nr, name, support, note}]")
	all := fs.Bool("all", false, "include unimplemented syscalls")
	if err := fs.Parse(args); err != nil {
		return 1
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
