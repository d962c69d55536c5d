package main

import (
	"log"

	flag "github.com/spf13/pflag"

	"pangolin/gofer/server"
)

func init() {
	register(&command{
		name:    "gofer",
		summary: "serve a container's files to the sentry (internal: started by do/create)",
		hidden:  true,
		run:     runGofer,
	})
}

func runGofer(args []string) int {
	fs := flag.NewFlagSet("gofer", flag.ContinueOnError)
	root := fs.String("root", "", "directory to serve")
	sockFD := fs.Int("sock-fd", -1, "FD of the sentry connection")
	ro := fs.Bool("ro", false, "refuse every modification with EROFS")
	debugLog := fs.String("debug-log", "", "debug log directory")
	if err := fs.Parse(args); err != nil {
		return 1
	}
	if *root == "" || *sockFD < 0 {
		return errorf(1, "gofer: internal command; use 'pangolin do'")
	}
	setupLog("gofer", *debugLog, false)
	if err := server.ServePath(*root, *sockFD, server.Options{ReadOnly: *ro}); err != nil {
		log.Printf("gofer: %v", err)
		return errorf(1, "gofer: %v", err)
	}
	return 0
}
