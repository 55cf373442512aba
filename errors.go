// Package leadflow holds the domain types of leadflow: leads, events, stages,
// transitions and the one error type every layer speaks. It imports only the
// standard library; storage, HTTP and scoring live in internal packages.
package leadflow

import (
	"errors"
	"fmt"
)

// Error codes. Each maps to one HTTP status in internal/problem and to a
// non-zero exit in the CLI.
const (
	ECONFLICT     = "conflict"     // state conflict, e.g. duplicate email
	EINTERNAL     = "internal"     // unexpected; never shown to clients verbatim
	EINVALID      = "invalid"      // the input is wrong
	ENOTFOUND     = "not_found"    // the entity does not exist
	EUNAUTHORIZED = "unauthorized" // missing or wrong credentials
	EFORBIDDEN    = "forbidden"    // authenticated but not allowed
	ETOOLARGE     = "too_large"    // body or message over its limit
	EUNAVAILABLE  = "unavailable"  // a dependency (database) cannot be reached
	EUNSUPPORTED  = "unsupported"  // e.g. an unsupported content encoding
)

// Error is the application error. Message is safe to show to a client;
// Where names the place of the problem (a JSON pointer, a CSV line, a YAML
// position) when there is one.
type Error struct {
	Code    string
	Message string
	Where   string
	// Details carries per-item problems (e.g. every invalid field of a model).
	Details []Detail
	// Err is the wrapped cause; logged, never shown.
	Err error
}

// Detail is one located problem inside a larger error.
type Detail struct {
	Where   string `json:"location"`
	Message string `json:"message"`
}

func (e *Error) Error() string {
	msg := e.Message
	if e.Where != "" {
		msg = e.Where + ": " + msg
	}
	if e.Err != nil && e.Code == EINTERNAL {
		return msg + ": " + e.Err.Error()
	}
	return msg
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error with the code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Invalidf returns an EINVALID error located at where.
func Invalidf(where, format string, args ...any) *Error {
	return &Error{Code: EINVALID, Where: where, Message: fmt.Sprintf(format, args...)}
}

// Internal wraps an unexpected error.
func Internal(err error, context string) error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return err
	}
	return &Error{Code: EINTERNAL, Message: context, Err: err}
}

// ErrorCode returns the code of an application error, EINTERNAL for any
// other non-nil error and "" for nil.
func ErrorCode(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the client-safe message of err.
func ErrorMessage(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) && e.Code != EINTERNAL {
		if e.Where != "" {
			return e.Where + ": " + e.Message
		}
		return e.Message
	}
	return "internal error"
}
