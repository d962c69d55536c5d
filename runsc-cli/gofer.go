package main

import (
	"fmt"
	"log"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/sys/unix"

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

// One gofer process serves a container's root and all its bind mounts,
// each on its own connection (--mount PATH=FD[:ro], repeatable): a mount
// is a separate tree with its own read-only policy, and a connection per
// tree keeps the protocol's node IDs and errors per mount. The gofer
// exits when the sentry has closed every connection.
func runGofer(args []string) int {
	g, err := parseGoferFlags(args)
	if err != nil {
		return errorf(1, "gofer: %v", err)
	}
	if (g.root == "" && g.rootFD < 0) || g.sockFD < 0 {
		return errorf(1, "gofer: internal command; use 'pangolin do'")
	}
	setupLog(kindGofer, g.debugLog, g.logFD, false)
	// Every connection is set up (its root opened, its socket checked)
	// before the filter goes in, and none is served before it is in.
	barrier := newFilterBarrier(len(g.mounts)+1, installGoferFilter)
	opts := func(ro bool) server.Options {
		return server.Options{ReadOnly: ro, BeforeServe: barrier.wait, ProcSelfFD: g.procFD}
	}
	var wg sync.WaitGroup
	errs := make(chan error, len(g.mounts)+1)
	for _, m := range g.mounts {
		rootFD, name := m.rootFD, m.path
		if rootFD < 0 {
			rootFD, err = unix.Open(m.path, unix.O_PATH|unix.O_CLOEXEC, 0)
			if err != nil {
				unix.Close(m.sockFD)
				return errorf(1, "gofer: mount source %s: %v", m.path, err)
			}
		} else {
			name = fmt.Sprintf("mount fd %d", rootFD)
		}
		s := server.New(rootFD, opts(m.ro))
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer s.Close()
			if err := s.Serve(m.sockFD); err != nil {
				barrier.abandon()
				errs <- fmt.Errorf("%s: %w", name, err)
			}
		}()
	}
	if g.rootFD >= 0 {
		s := server.New(g.rootFD, opts(g.ro))
		err = s.Serve(g.sockFD)
		s.Close()
	} else {
		err = server.ServePath(g.root, g.sockFD, opts(g.ro))
	}
	if err != nil {
		barrier.abandon()
		errs <- err
	}
	if g.procFD >= 0 {
		unix.Close(g.procFD)
	}
	wg.Wait()
	close(errs)
	code := 0
	for err := range errs {
		log.Printf("gofer: %v", err)
		code = errorf(1, "gofer: %v", err)
	}
	return code
}

// parseGoferMount parses PATH=FD[:ro].
func parseGoferMount(s string) (path string, fd int, ro bool, err error) {
	i := strings.LastIndexByte(s, '=')
	if i <= 0 {
		return "", 0, false, fmt.Errorf("want PATH=FD[:ro]")
	}
	path, rest := s[:i], s[i+1:]
	if r, ok := strings.CutSuffix(rest, ":ro"); ok {
		rest, ro = r, true
	}
	fd, err = strconv.Atoi(rest)
	if err != nil || fd < 3 {
		return "", 0, false, fmt.Errorf("bad descriptor %q", rest)
	}
	return path, fd, ro, nil
}

// filterBarrier installs a seccomp filter once n servers have finished
// their setup, and holds every server back until then: a filter installed
// while another goroutine is still setting up would kill the process for a
// setup-only syscall (getsockopt, dup), and a request served before it
// would run unconfined.
type filterBarrier struct {
	install func() error
	mu      sync.Mutex
	waiting int           // servers yet to arrive; protected by mu
	done    chan struct{} // closed once install has run
	err     error         // install's result; written before done closes
}

func newFilterBarrier(n int, install func() error) *filterBarrier {
	return &filterBarrier{install: install, waiting: n, done: make(chan struct{})}
}

// wait is a server.Options.BeforeServe: the last server to arrive installs
// the filter; all return its result.
func (b *filterBarrier) wait() error {
	b.arrive()
	<-b.done
	return b.err
}

// abandon counts a server that failed before reaching wait, so that the
// others are not held back forever.
func (b *filterBarrier) abandon() {
	select {
	case <-b.done:
	default:
		b.arrive()
	}
}

func (b *filterBarrier) arrive() {
	b.mu.Lock()
	b.waiting--
	last := b.waiting == 0
	b.mu.Unlock()
	if last {
		b.err = b.install()
		close(b.done)
	}
}
