package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/leadflow/leadflow/internal/store/storetest"
)

// testServer is leadflow started through run, as a user would start it.
type testServer struct {
	URL      string
	DB       string // the --db value
	env      map[string]string
	stdout   *syncBuffer
	stderr   *syncBuffer
	cancel   context.CancelFunc
	done     chan error
	APIKey   string
	WriteKey string
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func freeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// startServer runs `leadflow serve` on a fresh database of the backend
// ("sqlite" or "postgres"), waits for /healthz, and creates an API key and
// a write key with the CLI commands. It stops the server when the test ends.
func startServer(t testing.TB, backend string, extraArgs ...string) *testServer {
	t.Helper()
	dsn := storetest.DSN(t, backend)
	addr := freeAddr(t)
	s := &testServer{URL: "http://" + addr, DB: dsn, stdout: &syncBuffer{}, stderr: &syncBuffer{}, done: make(chan error, 1),
		env: map[string]string{"LEADFLOW_DB": dsn, "LEADFLOW_ADDR": addr, "LEADFLOW_DATA_DIR": t.TempDir()}}
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	go func() {
		s.done <- run(ctx, append([]string{"serve"}, extraArgs...), s.getenv, strings.NewReader(""), s.stdout, s.stderr)
	}()
	t.Cleanup(s.stop)
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get(s.URL + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		select {
		case err := <-s.done:
			t.Fatalf("server exited: %v\nstderr:\n%s", err, s.stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("server did not become healthy\nstderr:\n%s", s.stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	s.APIKey = s.cli(t, "apikey", "create", "--name", "test")
	s.WriteKey = s.cli(t, "source", "create", "--name", "test-source")
	return s
}

func (s *testServer) getenv(k string) string { return s.env[k] }

func (s *testServer) stop() {
	s.cancel()
	select {
	case <-s.done:
	case <-time.After(30 * time.Second):
	}
}

// cli runs a leadflow command against the server's database and returns
// its trimmed standard output; it fails the test on error.
func (s *testServer) cli(t testing.TB, args ...string) string {
	t.Helper()
	out, errOut, err := s.cliErr(args...)
	if err != nil {
		t.Fatalf("leadflow %s: %v\n%s", strings.Join(args, " "), err, errOut)
	}
	return strings.TrimSpace(out)
}

func (s *testServer) cliErr(args ...string) (string, string, error) {
	var out, errOut bytes.Buffer
	err := run(context.Background(), args, s.getenv, strings.NewReader(""), &out, &errOut)
	return out.String(), errOut.String(), err
}

// do sends an API request with the API key and returns status and body.
func (s *testServer) do(t testing.TB, method, path, contentType string, body io.Reader) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, s.URL+path, body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+s.APIKey)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// track sends Segment messages to /v1/batch with the write key.
func (s *testServer) batch(t testing.TB, body string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, s.URL+"/v1/batch", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth(s.WriteKey, "")
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func backends() []string { return storetest.Backends() }

var _ = fmt.Sprintf
var _ = os.Getenv
