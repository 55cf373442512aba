// Package mailpittest starts a real mailpit SMTP server for tests and reads
// what it received through its API. Install mailpit with
//
//	go install github.com/axllent/mailpit@v1.27.11
//
// Without it the tests skip, unless LEADFLOW_TEST_STRICT=1.
package mailpittest

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Server is a running mailpit.
type Server struct {
	SMTPHost string
	SMTPPort int
	API      string // http://127.0.0.1:port
}

// Address is a mailpit address.
type Address struct {
	Name    string `json:"Name"`
	Address string `json:"Address"`
}

// Summary is one message in the list.
type Summary struct {
	ID      string    `json:"ID"`
	Subject string    `json:"Subject"`
	From    Address   `json:"From"`
	To      []Address `json:"To"`
}

// Message is one message, decoded by mailpit.
type Message struct {
	ID      string    `json:"ID"`
	Subject string    `json:"Subject"`
	From    Address   `json:"From"`
	To      []Address `json:"To"`
	Text    string    `json:"Text"`
	HTML    string    `json:"HTML"`
}

// Binary finds mailpit on PATH or in $(go env GOPATH)/bin.
func Binary() string {
	if p, err := exec.LookPath("mailpit"); err == nil {
		return p
	}
	gopath := os.Getenv("GOPATH")
	if gopath == "" {
		if out, err := exec.Command("go", "env", "GOPATH").Output(); err == nil {
			gopath = strings.TrimSpace(string(out))
		}
	}
	for _, dir := range filepath.SplitList(gopath) {
		p := filepath.Join(dir, "bin", "mailpit")
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p
		}
	}
	return ""
}

func freePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// Start runs mailpit on free loopback ports until the test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	bin := Binary()
	if bin == "" {
		msg := "mailpit is not installed (go install github.com/axllent/mailpit@v1.27.11)"
		if os.Getenv("LEADFLOW_TEST_STRICT") == "1" {
			t.Fatal(msg + " and LEADFLOW_TEST_STRICT=1")
		}
		t.Skip(msg)
	}
	smtpPort, httpPort := freePort(t), freePort(t)
	s := &Server{SMTPHost: "127.0.0.1", SMTPPort: smtpPort, API: fmt.Sprintf("http://127.0.0.1:%d", httpPort)}
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, "--smtp", fmt.Sprintf("127.0.0.1:%d", smtpPort),
		"--listen", fmt.Sprintf("127.0.0.1:%d", httpPort), "--database", filepath.Join(dir, "mailpit.db"),
		"--disable-version-check", "--smtp-disable-rdns", "--quiet")
	var logs strings.Builder
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("start mailpit: %v", err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
		}
	})
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get(s.API + "/api/v1/messages")
		if err == nil {
			resp.Body.Close()
			if c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", smtpPort)); err == nil {
				c.Close()
				return s
			}
		}
		select {
		case <-done:
			t.Fatalf("mailpit exited: %s", logs.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("mailpit did not start: %s", logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (s *Server) get(t testing.TB, path string, v any) []byte {
	t.Helper()
	resp, err := http.Get(s.API + path)
	if err != nil {
		t.Fatalf("mailpit %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("mailpit %s: %d %s", path, resp.StatusCode, b)
	}
	if v != nil {
		if err := json.Unmarshal(b, v); err != nil {
			t.Fatalf("mailpit %s: %v", path, err)
		}
	}
	return b
}

// Messages lists the received messages, newest first.
func (s *Server) Messages(t testing.TB) []Summary {
	t.Helper()
	var out struct {
		Messages []Summary `json:"messages"`
	}
	s.get(t, "/api/v1/messages", &out)
	return out.Messages
}

// Wait polls until at least n messages arrived and returns them.
func (s *Server) Wait(t testing.TB, n int, timeout time.Duration) []Summary {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ms := s.Messages(t)
		if len(ms) >= n {
			return ms
		}
		if time.Now().After(deadline) {
			t.Fatalf("mailpit: %d messages after %s, want %d", len(ms), timeout, n)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Message reads one message, decoded.
func (s *Server) Message(t testing.TB, id string) *Message {
	t.Helper()
	var m Message
	s.get(t, "/api/v1/message/"+id, &m)
	return &m
}

// Headers reads one message's raw headers.
func (s *Server) Headers(t testing.TB, id string) map[string][]string {
	t.Helper()
	h := map[string][]string{}
	s.get(t, "/api/v1/message/"+id+"/headers", &h)
	return h
}

// Raw reads one message as sent.
func (s *Server) Raw(t testing.TB, id string) string {
	t.Helper()
	return string(s.get(t, "/api/v1/message/"+id+"/raw", nil))
}

// Port returns the SMTP port as a string.
func (s *Server) Port() string { return strconv.Itoa(s.SMTPPort) }
