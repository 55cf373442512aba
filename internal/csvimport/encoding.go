package csvimport

import (
	"bufio"
	"bytes"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/leadflow/leadflow"
	"golang.org/x/text/encoding/japanese"
	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/transform"
)

// Encoding names reported in Result.Encoding.
const (
	encUTF8     = "utf-8"
	encShiftJIS = "shift_jis"
	encUTF16LE  = "utf-16le"
	encUTF16BE  = "utf-16be"
)

// sniffSize is how far past the first non-ASCII byte the detector looks to
// decide between UTF-8 and Shift_JIS. It is also the input buffer size.
const sniffSize = 64 << 10

// progressEvery is how many raw bytes pass between two Progress calls, so a
// reader returning tiny chunks does not flood a progress bar.
const progressEvery = 64 << 10

// canonicalEncoding maps the names people type for an encoding to the one
// reported in Result.Encoding; "" means detect.
func canonicalEncoding(s string) (string, bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "":
		return "", true
	case "utf-8", "utf8":
		return encUTF8, true
	case "shift_jis", "shift-jis", "shiftjis", "sjis", "cp932", "windows-31j", "ms932":
		return encShiftJIS, true
	case "utf-16le", "utf16le":
		return encUTF16LE, true
	case "utf-16be", "utf16be":
		return encUTF16BE, true
	}
	return "", false
}

// progressReader counts the raw (undecoded) bytes read so that the count can
// be compared with the file size.
type progressReader struct {
	r       io.Reader
	fn      func(int64)
	n, last int64
	done    bool
}

func (p *progressReader) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	p.n += int64(n)
	switch {
	case err != nil && !p.done:
		p.done = true
		p.last = p.n
		p.fn(p.n)
	case p.n-p.last >= progressEvery:
		p.last = p.n
		p.fn(p.n)
	}
	return n, err
}

// decoder turns the input into UTF-8. Without a BOM or a forced encoding it
// passes ASCII through undecided, because ASCII reads the same in UTF-8 and
// Shift_JIS; at the first non-ASCII byte it looks ahead sniffSize bytes and
// picks UTF-8 if they are valid UTF-8, Shift_JIS otherwise. That keeps the
// input streaming (and Progress meaningful) while still deciding on real
// Japanese text rather than on an ASCII header.
type decoder struct {
	br  *bufio.Reader
	r   io.Reader // nil while undecided
	enc string
}

func newDecoder(raw io.Reader, forced string) (*decoder, error) {
	d := &decoder{br: bufio.NewReaderSize(raw, sniffSize)}
	head, err := d.br.Peek(4)
	if err != nil && err != io.EOF {
		return nil, leadflow.Internal(err, "reading CSV")
	}
	if bytes.HasPrefix(head, []byte("PK\x03\x04")) || bytes.HasPrefix(head, []byte("\xd0\xcf\x11\xe0")) {
		return nil, leadflow.Invalidf("line 1", "this is an Excel workbook, not CSV: save it as \"CSV UTF-8\" and import that")
	}
	utf8BOM := bytes.HasPrefix(head, []byte("\xef\xbb\xbf"))
	switch forced {
	case encUTF8:
		d.useUTF8(utf8BOM)
	case encShiftJIS:
		d.use(encShiftJIS, transform.NewReader(d.br, japanese.ShiftJIS.NewDecoder()))
	case encUTF16LE:
		d.use(encUTF16LE, transform.NewReader(d.br, unicode.UTF16(unicode.LittleEndian, unicode.UseBOM).NewDecoder()))
	case encUTF16BE:
		d.use(encUTF16BE, transform.NewReader(d.br, unicode.UTF16(unicode.BigEndian, unicode.UseBOM).NewDecoder()))
	default:
		switch {
		case utf8BOM:
			d.useUTF8(true)
		case bytes.HasPrefix(head, []byte("\xff\xfe")):
			d.use(encUTF16LE, transform.NewReader(d.br, unicode.UTF16(unicode.LittleEndian, unicode.ExpectBOM).NewDecoder()))
		case bytes.HasPrefix(head, []byte("\xfe\xff")):
			d.use(encUTF16BE, transform.NewReader(d.br, unicode.UTF16(unicode.BigEndian, unicode.ExpectBOM).NewDecoder()))
		}
	}
	return d, nil
}

func (d *decoder) use(enc string, r io.Reader) { d.enc, d.r = enc, r }

func (d *decoder) useUTF8(bom bool) {
	if bom {
		_, _ = d.br.Discard(3) // peeked above, cannot fail
	}
	d.use(encUTF8, d.br)
}

// encoding is the encoding in use; an input that never left ASCII is UTF-8.
func (d *decoder) encoding() string {
	if d.enc == "" {
		return encUTF8
	}
	return d.enc
}

// badText reports whether s holds bytes the chosen encoding could not
// decode: invalid UTF-8, or the replacement character the x/text decoders
// substitute (e.g. for CP932 user-defined characters).
func (d *decoder) badText(s string) bool {
	switch d.enc {
	case "":
		return false // only ASCII so far
	case encUTF8:
		return !utf8.ValidString(s)
	}
	return strings.ContainsRune(s, utf8.RuneError)
}

func (d *decoder) Read(p []byte) (int, error) {
	if d.r != nil {
		return d.r.Read(p)
	}
	if len(p) == 0 {
		return 0, nil
	}
	if _, err := d.br.Peek(1); err != nil {
		return 0, err
	}
	buf, _ := d.br.Peek(d.br.Buffered())
	n := 0
	for n < len(buf) && n < len(p) && buf[n] < utf8.RuneSelf {
		n++
	}
	if n > 0 {
		copy(p, buf[:n])
		_, _ = d.br.Discard(n)
		return n, nil
	}
	d.sniff()
	return d.r.Read(p)
}

// sniff decides the encoding at the first non-ASCII byte.
func (d *decoder) sniff() {
	w, err := d.br.Peek(sniffSize)
	if err == nil {
		w = trimPartialRune(w)
	}
	if utf8.Valid(w) {
		d.use(encUTF8, d.br)
		return
	}
	d.use(encShiftJIS, transform.NewReader(d.br, japanese.ShiftJIS.NewDecoder()))
}

// trimPartialRune drops an incomplete UTF-8 sequence cut off at the end of a
// look-ahead window, so a window boundary does not look like invalid UTF-8.
func trimPartialRune(w []byte) []byte {
	for i := len(w) - 1; i >= 0 && i >= len(w)-utf8.UTFMax; i-- {
		if utf8.RuneStart(w[i]) {
			if !utf8.FullRune(w[i:]) {
				return w[:i]
			}
			break
		}
	}
	return w
}
