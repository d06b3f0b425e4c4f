// Command hostdocker stands between the SAM CLI and a Docker daemon so that every Lambda
// container SAM starts runs on the host's network. SAM CLI has no such option (given
// --docker-network host it leaves the container on the daemon's default network), and the
// daemon of the local tests runs without a bridge, so a container would otherwise reach
// nothing: neither DynamoDB Local and the other emulators on 127.0.0.1, nor SAM itself.
//
//	hostdocker -listen /tmp/sam-docker.sock -docker unix:///var/run/docker.sock
//	DOCKER_HOST=unix:///tmp/sam-docker.sock sam local invoke ...
//
// It forwards the Docker Engine API as it is, but for two calls: a container's creation
// gets the host network, with the emulator's ports moved to loopback (see rewrite.go), and
// creating a network is refused.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

func main() {
	listen := flag.String("listen", "", "unix socket to serve the Docker API on")
	upstream := flag.String("docker", "unix:///var/run/docker.sock", "the Docker daemon's socket")
	flag.Parse()
	log := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	if err := run(*listen, *upstream, log); err != nil {
		log.Error("hostdocker stopped", "err", err)
		os.Exit(1)
	}
}

func run(listen, upstream string, log *slog.Logger) error {
	if listen == "" {
		return errors.New("-listen: a unix socket path is required")
	}
	socket, ok := strings.CutPrefix(upstream, "unix://")
	if !ok {
		return fmt.Errorf("-docker %q: only a unix:// socket is supported", upstream)
	}
	_ = os.Remove(listen) // a socket left by an earlier run
	l, err := net.Listen("unix", listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", listen, err)
	}
	srv := &http.Server{Handler: newProxy(socket, log), ReadHeaderTimeout: 10 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdown)
	}()
	fmt.Printf("hostdocker listening on unix://%s, forwarding to unix://%s\n", listen, socket)
	if err := srv.Serve(l); !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	return nil
}

// newProxy forwards to the daemon on socket, rewriting what rewrite.go rewrites. Responses
// stream as they come (logs, attach, events), and upgraded connections (attach) are
// spliced, as httputil.ReverseProxy does for a 101 answer.
func newProxy(socket string, log *slog.Logger) http.Handler {
	daemon := &url.URL{Scheme: "http", Host: "docker"}
	proxy := &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(daemon)
			r.Out.Host = "docker"
		},
		Transport: &http.Transport{
			DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
				var d net.Dialer
				return d.DialContext(ctx, "unix", socket)
			},
		},
		FlushInterval: -1,
		ErrorLog:      slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch call := callOf(r); call {
		case createNetwork:
			log.Warn("refused to create a network", "path", r.URL.Path)
			http.Error(w, `{"message":"hostdocker: containers use the host network only"}`, http.StatusForbidden)
			return
		case createContainer:
			if err := hostNetwork(r, freeLoopbackPort); err != nil {
				log.Error("rewrite a container's creation", "err", err)
				http.Error(w, fmt.Sprintf(`{"message":%q}`, "hostdocker: "+err.Error()), http.StatusBadRequest)
				return
			}
			log.Info("container on the host network", "path", r.URL.Path)
		}
		proxy.ServeHTTP(w, r)
	})
}

// freeLoopbackPort asks the kernel for a port free on 127.0.0.1 now.
func freeLoopbackPort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
