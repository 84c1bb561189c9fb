package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Request input is bounded in one place: limitBody gives every request
// (every route of the table, /metrics and the dashboard) its body limit,
// and error messages quote the client's input only through excerpt.

// Request body limits.
const (
	defaultMaxBody = 1 << 20  // JSON bodies, and the bodies of routes that take none
	planMaxBody    = 64 << 20 // uploaded plan files
)

// bodyKind is what a route reads from its request body.
type bodyKind int

const (
	// bodyNone: the body is read (and discarded) up to defaultMaxBody.
	bodyNone bodyKind = iota
	// bodyJSON: a JSON object of up to defaultMaxBody.
	bodyJSON
	// bodyJSONOrPlan: JSON, or a plan file of up to planMaxBody
	// (isPlanUpload).
	bodyJSONOrPlan
)

// isPlanUpload reports whether r's body is a plan file rather than JSON.
func isPlanUpload(r *http.Request) bool {
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return ct == "application/octet-stream" || ct == "application/x-dsynth-plan"
}

// bodyLimit is the body limit of r on route rt (nil: outside the table).
func bodyLimit(rt *route, r *http.Request) int64 {
	if rt != nil && rt.body == bodyJSONOrPlan && isPlanUpload(r) {
		return planMaxBody
	}
	return defaultMaxBody
}

// limitBody bounds r's body for route rt (nil: a path outside the route
// table). A body declared larger than the limit is refused at once; an
// undeclared (chunked) one is cut at the limit while it is read. A route
// that takes no body reads it here, so that an oversized one is refused
// as well. The error is a 413 envelope.
func limitBody(w http.ResponseWriter, r *http.Request, rt *route) error {
	limit := bodyLimit(rt, r)
	if r.ContentLength > limit {
		return tooLarge(limit)
	}
	r.Body = http.MaxBytesReader(w, r.Body, limit)
	if rt == nil || rt.body == bodyNone {
		if _, err := io.Copy(io.Discard, r.Body); err != nil {
			return bodyError(err)
		}
	}
	return nil
}

func tooLarge(limit int64) error {
	return errf(http.StatusRequestEntityTooLarge, CodeTooLarge, fmt.Sprintf("the request body exceeds %d bytes", limit))
}

// bodyError maps an error reading a request body: over the limit is 413.
func bodyError(err error) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return tooLarge(mbe.Limit)
	}
	var ae *apiError
	if errors.As(err, &ae) {
		return err
	}
	return errf(http.StatusBadRequest, CodeBadRequest, "reading the request body: "+excerpt(err.Error()))
}

// excerptMax bounds how many bytes of the client's input an error
// message quotes; messageMax bounds a whole message.
const (
	excerptMax = 64
	messageMax = 512
)

// excerpt returns input (a value, a name, a path of the request) as an
// error message may quote it: at most excerptMax bytes, escaped as in a
// Go string literal (control and format characters, invalid UTF-8,
// quotes and backslashes), without the surrounding quotes; a cut one ends
// with "…" and its length.
func excerpt(s string) string {
	cut, n := clip(s, excerptMax), len(s)
	q := strconv.Quote(cut)
	q = q[1 : len(q)-1]
	if len(cut) < n {
		q += fmt.Sprintf("… (%d bytes)", n)
	}
	return q
}

// excerptMessage bounds a message that may quote the input whole (an
// error of the plan decoder, the planner or the records): at most
// messageMax bytes, its control and format characters and invalid UTF-8
// escaped.
func excerptMessage(s string) string {
	cut, n := clip(s, messageMax), len(s)
	var b strings.Builder
	for i := 0; i < len(cut); {
		r, size := utf8.DecodeRuneInString(cut[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, cut[i])
		case !strconv.IsPrint(r):
			q := strconv.QuoteRune(r)
			b.WriteString(q[1 : len(q)-1])
		default:
			b.WriteString(cut[i : i+size])
		}
		i += size
	}
	if len(cut) < n {
		fmt.Fprintf(&b, "… (%d bytes)", n)
	}
	return b.String()
}

// clip returns s cut to at most max bytes, not inside a UTF-8 sequence.
func clip(s string, max int) string {
	if len(s) <= max {
		return s
	}
	i := max
	for i > max-utf8.UTFMax && i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i]
}

// jsonError describes a JSON decoding error without quoting more than an
// excerpt of the input (encoding/json quotes unknown field names and
// number literals whole).
func jsonError(err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return fmt.Sprintf("%s (at byte %d)", excerpt(strings.TrimPrefix(se.Error(), "json: ")), se.Offset)
	case errors.As(err, &te):
		got, _, _ := strings.Cut(te.Value, " ")
		if te.Field != "" {
			return fmt.Sprintf("%s must be %s, not %s", excerpt(te.Field), te.Type, got)
		}
		return fmt.Sprintf("the body must be %s, not %s", te.Type, got)
	case strings.HasPrefix(err.Error(), `json: unknown field "`):
		name := strings.TrimSuffix(strings.TrimPrefix(err.Error(), `json: unknown field "`), `"`)
		return `unknown field "` + excerpt(name) + `"`
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "unexpected end of the body"
	}
	return excerpt(err.Error())
}
