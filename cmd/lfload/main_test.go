package main

import (
	"testing"
)

func TestLoopbackURL(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		url string
		ok  bool
	}{
		{"http://127.0.0.1:8080", true},
		{"http://127.0.0.2:8080", true},
		{"http://localhost:8080", true},
		{"http://[::1]:8080", true},
		{"http://10.0.0.1:8080", false},
		{"http://192.168.1.10", false},
		{"https://example.com", false},
		{"http://127.0.0.1.example.com", false},
		{"ftp://127.0.0.1", false},
		{"127.0.0.1:8080", false},
	} {
		if _, err := loopbackURL(tc.url); (err == nil) != tc.ok {
			t.Errorf("loopbackURL(%q) error = %v, want ok %v", tc.url, err, tc.ok)
		}
	}
}
