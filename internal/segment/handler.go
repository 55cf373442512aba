package segment

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/leadflow/leadflow"
	"github.com/leadflow/leadflow/internal/problem"
)

// Sink stores a request's messages atomically (all or nothing). It resolves
// the write key to a source and returns a *leadflow.Error with EUNAUTHORIZED
// when the key is unknown. It may be called with no messages (an empty
// batch) so that the key is still checked. Messages are the Sink's to keep.
type Sink interface {
	Ingest(ctx context.Context, writeKey string, msgs []Message) error
}

// Options are the optional dependencies of the handler.
type Options struct {
	// Logger receives internal errors; nil discards them.
	Logger *slog.Logger
	// Now is the clock that stamps receivedAt; nil means time.Now.
	Now func() time.Time
	// Observe, when set, is called once per request with the call (identify,
	// track, page, screen, group, alias, batch), the number of messages
	// accepted, the time taken and the error answered (nil on success).
	Observe func(kind string, n int, d time.Duration, err error)
}

// calls maps the last path segment to a call. The one-letter forms are
// those analytics.js (analytics-next) posts to; "b" is its batching mode
// and "import" Segment's historical name for batch.
var calls = map[string]string{
	"identify": "identify", "i": "identify",
	"track": "track", "t": "track",
	"page": "page", "p": "page",
	"screen": "screen", "s": "screen",
	"group": "group", "g": "group",
	"alias": "alias", "a": "alias",
	"batch": "batch", "b": "batch", "import": "batch",
}

// success is Segment's answer to an accepted call.
var success = []byte(`{"success": true}`)

type handler struct {
	sink    Sink
	logger  *slog.Logger
	now     func() time.Time
	observe func(kind string, n int, d time.Duration, err error)
}

// NewHandler serves the Segment HTTP Tracking API under /v1/: identify,
// track, page, screen, group, alias, batch and import, plus the short paths
// of analytics.js. Answers are 200 {"success": true}, or problem+json: 400
// for anything wrong with the body (limits included, as Segment does, so
// SDKs do not retry), 401 without a known write key, 415 for an encoding
// other than gzip. Browsers may post from any origin, as they do to Segment.
func NewHandler(sink Sink, opts Options) http.Handler {
	h := &handler{sink: sink, logger: opts.Logger, now: opts.Now, observe: opts.Observe}
	if h.logger == nil {
		h.logger = slog.New(slog.DiscardHandler)
	}
	if h.now == nil {
		h.now = time.Now
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/{call}", h.serveCall)
	mux.HandleFunc("OPTIONS /v1/{call}", h.preflight)
	mux.HandleFunc("/v1/{call}", h.wrongMethod)
	return mux
}

func (h *handler) serveCall(w http.ResponseWriter, r *http.Request) {
	start := h.now()
	allowOrigin(w)
	call, ok := calls[r.PathValue("call")]
	if !ok {
		problem.Write(w, r, leadflow.Errorf(leadflow.ENOTFOUND, "unknown call %q", r.PathValue("call")), h.logger)
		return
	}
	n, err := h.ingest(r, call, start)
	if h.observe != nil {
		h.observe(call, n, h.now().Sub(start), err)
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(success)
}

// ingest reads, decodes and stores one request and returns the number of
// messages stored.
func (h *handler) ingest(r *http.Request, call string, receivedAt time.Time) (int, error) {
	limit := MaxMessageBytes
	if call == "batch" {
		limit = MaxBatchBytes
	}
	body, err := readBody(r, limit)
	if err != nil {
		return 0, err
	}
	var msgs []Message
	var bodyKey string
	if call == "batch" {
		msgs, bodyKey, err = DecodeBatch(body, receivedAt)
	} else {
		var m Message
		m, bodyKey, err = Decode(call, body, receivedAt)
		msgs = []Message{m}
	}
	if err != nil {
		return 0, err
	}
	key, ok := basicUser(r.Header.Get("Authorization"))
	if !ok {
		key = bodyKey
	}
	if key == "" {
		return 0, leadflow.Errorf(leadflow.EUNAUTHORIZED, "a write key is required: send it as the user name of HTTP Basic authentication or as writeKey in the body")
	}
	if err := h.sink.Ingest(r.Context(), key, msgs); err != nil {
		return 0, err
	}
	return len(msgs), nil
}

// fail answers err as problem+json. Limits are answered 400, not 413,
// because Segment does and its SDKs retry anything but 400.
func (h *handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	switch leadflow.ErrorCode(err) {
	case leadflow.ETOOLARGE:
		p := problem.From(r, err, h.logger)
		p.Status, p.Title = http.StatusBadRequest, http.StatusText(http.StatusBadRequest)
		problem.WriteDetails(w, p)
		return
	case leadflow.EUNAUTHORIZED:
		w.Header().Set("WWW-Authenticate", `Basic realm="leadflow"`)
	}
	problem.Write(w, r, err, h.logger)
}

// preflight answers CORS preflights; analytics.js avoids them by sending
// text/plain, but other browser clients may not.
func (h *handler) preflight(w http.ResponseWriter, r *http.Request) {
	allowOrigin(w)
	w.Header().Set("Access-Control-Allow-Methods", "POST")
	w.Header().Set("Access-Control-Allow-Headers", "Authorization, Content-Type, Content-Encoding")
	w.Header().Set("Access-Control-Max-Age", "86400")
	w.WriteHeader(http.StatusNoContent)
}

func (h *handler) wrongMethod(w http.ResponseWriter, r *http.Request) {
	if _, ok := calls[r.PathValue("call")]; !ok {
		problem.Write(w, r, leadflow.Errorf(leadflow.ENOTFOUND, "unknown call %q", r.PathValue("call")), h.logger)
		return
	}
	w.Header().Set("Allow", "POST, OPTIONS")
	problem.WriteDetails(w, problem.Details{
		Status:   http.StatusMethodNotAllowed,
		Detail:   "the tracking API accepts POST only",
		Instance: r.URL.Path,
	})
}

// allowOrigin lets browsers read the answer: write keys are public and
// Segment accepts any origin too.
func allowOrigin(w http.ResponseWriter) {
	w.Header().Set("Access-Control-Allow-Origin", "*")
}

// readBody reads the request body, decompressing gzip, and refuses more than
// limit bytes of either the compressed or the decompressed body, so a gzip
// bomb costs at most limit bytes of memory.
func readBody(r *http.Request, limit int) ([]byte, error) {
	raw := &io.LimitedReader{R: r.Body, N: int64(limit) + 1}
	var src io.Reader = raw
	gzipped := false
	switch enc := strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Encoding"))); enc {
	case "", "identity":
	case "gzip", "x-gzip":
		gzipped = true
	default:
		return nil, leadflow.Errorf(leadflow.EUNSUPPORTED, "content encoding %q is not supported; send gzip or none", enc)
	}
	tooBig := func() error {
		return tooLarge("", "request body is over the limit of %d bytes (%d KB) after decompression", limit, limit>>10)
	}
	if gzipped {
		zr, err := gzip.NewReader(raw)
		if err != nil {
			if raw.N <= 0 {
				return nil, tooBig()
			}
			return nil, leadflow.Errorf(leadflow.EINVALID, "body is not valid gzip: %v", err)
		}
		defer zr.Close()
		src = zr
	}
	var buf bytes.Buffer
	if cl := r.ContentLength; cl > 0 && !gzipped {
		buf.Grow(int(min(cl, int64(limit)+1)))
	}
	_, err := buf.ReadFrom(io.LimitReader(src, int64(limit)+1))
	if raw.N <= 0 || buf.Len() > limit {
		return nil, tooBig()
	}
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, tooBig()
		}
		if gzipped {
			return nil, leadflow.Errorf(leadflow.EINVALID, "body is not valid gzip: %v", err)
		}
		return nil, leadflow.Errorf(leadflow.EINVALID, "cannot read the body: %v", err)
	}
	return buf.Bytes(), nil
}

// basicUser returns the user name of HTTP Basic credentials, which is the
// write key. Segment also accepts credentials without the colon.
func basicUser(header string) (string, bool) {
	const prefix = "basic "
	if len(header) <= len(prefix) || !strings.EqualFold(header[:len(prefix)], prefix) {
		return "", false
	}
	enc := strings.TrimSpace(header[len(prefix):])
	dec, err := base64.StdEncoding.DecodeString(enc)
	if err != nil {
		if dec, err = base64.RawStdEncoding.DecodeString(enc); err != nil {
			return "", false
		}
	}
	user, _, _ := strings.Cut(string(dec), ":")
	return user, user != ""
}
