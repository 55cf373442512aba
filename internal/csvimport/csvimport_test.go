package csvimport_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/leadflow/leadflow"
	"github.com/leadflow/leadflow/internal/csvimport"
	"golang.org/x/text/encoding/japanese"
	"golang.org/x/text/encoding/unicode"
)

// sjis encodes s as Shift_JIS (CP932), as Excel in Japan saves CSV.
func sjis(t testing.TB, s string) []byte {
	t.Helper()
	b, err := japanese.ShiftJIS.NewEncoder().Bytes([]byte(s))
	if err != nil {
		t.Fatalf("encoding Shift_JIS: %v", err)
	}
	return b
}

// utf16 encodes s as UTF-16 with a BOM.
func utf16(t testing.TB, e unicode.Endianness, s string) []byte {
	t.Helper()
	b, err := unicode.UTF16(e, unicode.UseBOM).NewEncoder().Bytes([]byte(s))
	if err != nil {
		t.Fatalf("encoding UTF-16: %v", err)
	}
	return b
}

// rows renders rows as "line json" so table expectations stay readable.
func rows(t *testing.T, rs []csvimport.Row) []string {
	t.Helper()
	out := make([]string, len(rs))
	for i, r := range rs {
		b, err := json.Marshal(r.Patch)
		if err != nil {
			t.Fatal(err)
		}
		out[i] = fmt.Sprintf("%d %s", r.Line, b)
	}
	return out
}

const jaList = "メールアドレス,氏名,会社名,部署,役職,従業員数,電話番号,都道府県,ブース\r\n" +
	"taro@example.co.jp,山田 太郎,株式会社ＡＢＣ,営業部,部長,約３００名,０３-1234-5678,東京都,A-12\r\n"

const jaRow = `2 {"email":"taro@example.co.jp","name":"山田 太郎","company":"株式会社ABC","title":"部長",` +
	`"employees":300,"region":"東京都","phone":"03-1234-5678","traits":{"department":"営業部","ブース":"A-12"}}`

func TestRead(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		in       []byte
		opts     csvimport.Options
		want     []string
		enc      string
		columns  map[string]string // checked when set
		merged   int
		nRejects int
	}{
		{
			name:    "utf-8 BOM",
			in:      []byte("\xef\xbb\xbfEmail,Name\n A@Example.COM , Ann \n"),
			want:    []string{`2 {"email":"a@example.com","name":"Ann"}`},
			enc:     "utf-8",
			columns: map[string]string{"Email": "email", "Name": "name"},
		},
		{
			name: "shift_jis detected, japanese headers",
			in:   sjis(t, jaList),
			want: []string{jaRow},
			enc:  "shift_jis",
			columns: map[string]string{"メールアドレス": "email", "氏名": "name", "会社名": "company",
				"部署": "department", "役職": "title", "従業員数": "employees", "電話番号": "phone",
				"都道府県": "region", "ブース": "trait"},
		},
		{
			name: "shift_jis forced",
			in:   sjis(t, jaList),
			opts: csvimport.Options{Encoding: "CP932"},
			want: []string{jaRow},
			enc:  "shift_jis",
		},
		{
			name: "utf-8 without BOM, japanese",
			in:   []byte(jaList),
			want: []string{jaRow},
			enc:  "utf-8",
		},
		{
			name: "utf-16le BOM",
			in:   utf16(t, unicode.LittleEndian, jaList),
			want: []string{jaRow},
			enc:  "utf-16le",
		},
		{
			name: "utf-16be BOM",
			in:   utf16(t, unicode.BigEndian, jaList),
			want: []string{jaRow},
			enc:  "utf-16be",
		},
		{
			name: "ascii header, shift_jis far below",
			in: append([]byte("Email,Company\n"+strings.Repeat("a@example.com,Acme\n", 5000)),
				sjis(t, "b@example.com,ｶﾌﾞｼｷｶﾞｲｼｬ テスト\n")...),
			enc:    "shift_jis",
			merged: 4999,
			want: []string{`2 {"email":"a@example.com","company":"Acme"}`,
				`5002 {"email":"b@example.com","company":"カブシキガイシャ テスト"}`},
		},
		{
			name: "hubspot export",
			in: []byte("Record ID,First Name,Last Name,Email,Phone Number,Company Name,Job Title," +
				"State/Region,Country/Region,Industry,Number of Employees,Lifecycle Stage,Unsubscribed from all email\n" +
				`101,Jane,Doe,Jane.Doe@Acme.com,+1 555 0100,Acme,CTO,CA,United States,Software,"1,000",lead,false` + "\n"),
			want: []string{`2 {"email":"jane.doe@acme.com","name":"Jane Doe","company":"Acme","title":"CTO",` +
				`"industry":"Software","employees":1000,"country":"United States","region":"CA","phone":"+1 555 0100",` +
				`"unsubscribed":false,"traits":{"Lifecycle Stage":"lead","Record ID":"101","first_name":"Jane","last_name":"Doe"}}`},
			columns: map[string]string{"Record ID": "trait", "First Name": "first_name", "Last Name": "last_name",
				"Email": "email", "Phone Number": "phone", "Company Name": "company", "Job Title": "title",
				"State/Region": "region", "Country/Region": "country", "Industry": "industry",
				"Number of Employees": "employees", "Lifecycle Stage": "trait", "Unsubscribed from all email": "unsubscribed"},
		},
		{
			name: "salesforce report: empty Phone falls through to Mobile",
			in: []byte("Lead Owner,Full Name,Title,Company / Account,Email,Phone,Mobile,State/Province,No. of Employees,Email Opt Out\n" +
				"Sam Rep,Ken Ito,VP,Globex,ken@globex.example,,090-1111-2222,Osaka,100-499,1\n"),
			want: []string{`2 {"email":"ken@globex.example","name":"Ken Ito","company":"Globex","title":"VP",` +
				`"employees":100,"region":"Osaka","phone":"090-1111-2222","unsubscribed":true,"traits":{"Lead Owner":"Sam Rep"}}`},
		},
		{
			name: "salesforce api names",
			in:   []byte("FirstName,LastName,Email,Company,NumberOfEmployees,HasOptedOutOfEmail\nAi,Sato,ai@x.example,X,5,0\n"),
			want: []string{`2 {"email":"ai@x.example","name":"Ai Sato","company":"X","employees":5,` +
				`"unsubscribed":false,"traits":{"first_name":"Ai","last_name":"Sato"}}`},
		},
		{
			name:    "explicit map, case-insensitive, ignoring a column",
			in:      []byte("連絡先,会社,Memo\nx@y.example,Y社,call back\n"),
			opts:    csvimport.Options{Map: map[string]string{"連絡先": "email", "会社": "company", "memo": "-"}},
			want:    []string{`2 {"email":"x@y.example","company":"Y社"}`},
			columns: map[string]string{"連絡先": "email", "会社": "company", "Memo": "-"},
		},
		{
			name:    "map overrides an alias",
			in:      []byte("Email,Email 2\nold@x.example,new@x.example\n"),
			opts:    csvimport.Options{Map: map[string]string{"Email": "-", "EMAIL 2": "email"}},
			want:    []string{`2 {"email":"new@x.example"}`},
			columns: map[string]string{"Email": "-", "Email 2": "email"},
		},
		{
			name: "name joining",
			in: []byte("Email,姓,名,Name\n" +
				"a@x.example,山田,太郎,\n" +
				"b@x.example,Doe,Jane,\n" +
				"c@x.example,Doe,,\n" +
				"d@x.example,,ｹﾝ,\n" +
				"e@x.example,Doe,Jane,J. Doe\n"),
			want: []string{
				`2 {"email":"a@x.example","name":"山田 太郎","traits":{"first_name":"太郎","last_name":"山田"}}`,
				`3 {"email":"b@x.example","name":"Jane Doe","traits":{"first_name":"Jane","last_name":"Doe"}}`,
				`4 {"email":"c@x.example","name":"Doe","traits":{"last_name":"Doe"}}`,
				`5 {"email":"d@x.example","name":"ケン","traits":{"first_name":"ケン"}}`,
				`6 {"email":"e@x.example","name":"J. Doe","traits":{"first_name":"Jane","last_name":"Doe"}}`,
			},
		},
		{
			name: "duplicates merge into the first row, later values win",
			in: []byte("Email,Company,Title,Booth\n" +
				"a@x.example,Old Co,CTO,A1\n" +
				"b@x.example,B Co,,\n" +
				"A@X.example,New Co,,B2\n"),
			want: []string{
				`2 {"email":"a@x.example","company":"New Co","title":"CTO","traits":{"Booth":"B2"}}`,
				`3 {"email":"b@x.example","company":"B Co"}`,
			},
			merged: 1,
		},
		{
			name: "full-width email, blank rows, multi-line value",
			in: []byte("Email,Note\n" +
				"ＴＡＲＯ＠ＥＸＡＭＰＬＥ．ＣＯＭ,\"met at\nbooth 3\"\n" +
				",\n\n" +
				"mailto:Ken@Example.com,\n"),
			want: []string{
				`2 {"email":"taro@example.com","traits":{"Note":"met at\nbooth 3"}}`,
				`6 {"email":"ken@example.com"}`,
			},
		},
		{
			name: "header only",
			in:   []byte("Email,Name\n"),
		},
		{
			name:     "a rejected row does not stop the others",
			in:       []byte("Email,Name\nnope,A\nb@x.example,B\n"),
			want:     []string{`3 {"email":"b@x.example","name":"B"}`},
			nRejects: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res, err := csvimport.Read(bytes.NewReader(tt.in), tt.opts)
			if err != nil {
				t.Fatalf("Read: %v", err)
			}
			if got := rows(t, res.Rows); !slices.Equal(got, tt.want) {
				t.Errorf("rows:\n got %q\nwant %q", got, tt.want)
			}
			if tt.enc != "" && res.Encoding != tt.enc {
				t.Errorf("encoding = %q, want %q", res.Encoding, tt.enc)
			}
			if tt.columns != nil && !maps.Equal(res.Columns, tt.columns) {
				t.Errorf("columns = %v, want %v", res.Columns, tt.columns)
			}
			if res.Merged != tt.merged {
				t.Errorf("merged = %d, want %d", res.Merged, tt.merged)
			}
			if len(res.Rejects) != tt.nRejects {
				t.Errorf("rejects = %+v, want %d", res.Rejects, tt.nRejects)
			}
		})
	}
}

func TestReadRejects(t *testing.T) {
	t.Parallel()
	r := func(line int, col, val, reason string) csvimport.Reject {
		return csvimport.Reject{Line: line, Column: col, Value: val, Reason: reason}
	}
	const (
		missing   = "missing email"
		badEmail  = "invalid email address"
		badEmp    = `not a number of employees (want e.g. 250, "1,000", "100名" or "100-499")`
		badBool   = "not a yes/no value (want true/false, yes/no, 1/0, はい/いいえ)"
		badText   = "text not valid in the file's encoding"
		multiLine = "\"a\nb\nc\""
	)
	tests := []struct {
		name  string
		in    []byte
		opts  csvimport.Options
		want  []csvimport.Reject
		nRows int
	}{
		{
			name: "missing email",
			in:   []byte("Name,Email\nAnn,\nBob,  \n"),
			want: []csvimport.Reject{r(2, "Email", "", missing), r(3, "Email", "", missing)},
		},
		{
			name: "invalid emails",
			in: []byte("Email\nnot-an-email\nroot@localhost\nAnn <ann@x.example>\n" +
				"a@x.example; b@x.example\n@x.example\nok@x.example\n"),
			want: []csvimport.Reject{
				r(2, "Email", "not-an-email", badEmail), r(3, "Email", "root@localhost", badEmail),
				r(4, "Email", "Ann <ann@x.example>", badEmail), r(5, "Email", "a@x.example; b@x.example", badEmail),
				r(6, "Email", "@x.example", badEmail),
			},
			nRows: 1,
		},
		{
			name:  "employees, after a multi-line value",
			in:    []byte("Email,Note,従業員数\na@x.example," + multiLine + ",大企業\nb@x.example,,100\n"),
			want:  []csvimport.Reject{r(4, "従業員数", "大企業", badEmp)},
			nRows: 1,
		},
		{
			name: "boolean",
			in:   []byte("Email,配信停止,Consent\na@x.example,maybe,はい\nb@x.example,✓,x\n"),
			want: []csvimport.Reject{r(2, "配信停止", "maybe", badBool), r(3, "Consent", "x", badBool)},
		},
		{
			name: "every problem of a row is reported",
			in:   []byte("Email,Employees,Unsubscribed\n,lots,sometimes\n"),
			want: []csvimport.Reject{
				r(2, "Employees", "lots", badEmp), r(2, "Unsubscribed", "sometimes", badBool), r(2, "Email", "", missing),
			},
		},
		{
			name:  "invalid utf-8 when utf-8 is forced",
			in:    []byte("Email,Company\na@x.example,\xff\xfe Co\nb@x.example,B\n"),
			opts:  csvimport.Options{Encoding: "utf-8"},
			want:  []csvimport.Reject{r(2, "Company", "\ufffd Co", badText)},
			nRows: 1,
		},
		{
			name: "CP932 user-defined character",
			in:   append(sjis(t, "Email,氏名\na@x.example,"), 0xf0, 0x40, '\n'),
			want: []csvimport.Reject{r(2, "氏名", "\ufffd", badText)},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res, err := csvimport.Read(bytes.NewReader(tt.in), tt.opts)
			if err != nil {
				t.Fatalf("Read: %v", err)
			}
			if !slices.Equal(res.Rejects, tt.want) {
				t.Errorf("rejects:\n got %+v\nwant %+v", res.Rejects, tt.want)
			}
			if len(res.Rows) != tt.nRows {
				t.Errorf("rows = %d, want %d", len(res.Rows), tt.nRows)
			}
		})
	}
}

func TestReadErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		in    []byte
		opts  csvimport.Options
		where string
		msg   string // a substring of the message
	}{
		{"empty file", nil, csvimport.Options{}, "line 1", "empty file"},
		{"only a BOM", []byte("\xef\xbb\xbf"), csvimport.Options{}, "line 1", "empty file"},
		{"bare quote", []byte("Email,Name\na@x.example,Jo\"hn\n"), csvimport.Options{}, "line 2", `a " inside an unquoted value`},
		{"unclosed quote", []byte("Email,Name\na@x.example,\"John\nb@x.example,Ann\n"), csvimport.Options{}, "line 3", "row starts on line 2"},
		{"too few fields", []byte("Email,Name\na@x.example,A\nb@x.example\n"), csvimport.Options{}, "line 3", "row has 1 fields but the header has 2"},
		{"too many fields after a multi-line value", []byte("Email,Name\na@x.example,\"A\nB\"\nb@x.example,B,extra\n"), csvimport.Options{}, "line 4", "row has 3 fields"},
		{"no header", []byte("a@x.example,Ann\n"), csvimport.Options{}, "line 1", "no header row"},
		{"no email column", []byte("Name,Company\nAnn,Acme\n"), csvimport.Options{}, "line 1", "no email column"},
		{"map names a missing column", []byte("Email\na@x.example\n"), csvimport.Options{Map: map[string]string{"Mail2": "email"}}, "--map", `no column "Mail2"`},
		{"map to an unknown field", []byte("Email\na@x.example\n"), csvimport.Options{Map: map[string]string{"Email": "e-mail"}}, "--map", `unknown field "e-mail"`},
		{"map ignores the only email column", []byte("Email\na@x.example\n"), csvimport.Options{Map: map[string]string{"email": "-"}}, "line 1", "no email column"},
		{"unknown encoding", []byte("Email\n"), csvimport.Options{Encoding: "euc-jp"}, "encoding", "unknown encoding"},
		{"xlsx", []byte("PK\x03\x04\x14\x00\x06\x00"), csvimport.Options{}, "line 1", "Excel workbook"},
		{"shift_jis header read as utf-8", sjis(t, "メール\na@x.example\n"), csvimport.Options{Encoding: "utf-8"}, "line 1", "not valid utf-8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res, err := csvimport.Read(bytes.NewReader(tt.in), tt.opts)
			if res != nil {
				t.Errorf("result = %+v, want nil", res)
			}
			var e *leadflow.Error
			if !errors.As(err, &e) {
				t.Fatalf("err = %v, want *leadflow.Error", err)
			}
			if e.Code != leadflow.EINVALID || e.Where != tt.where || !strings.Contains(e.Message, tt.msg) {
				t.Errorf("err = {%s %q %q}, want {invalid %q …%s…}", e.Code, e.Where, e.Message, tt.where, tt.msg)
			}
		})
	}
}

func TestReadIOError(t *testing.T) {
	t.Parallel()
	boom := errors.New("disk on fire")
	in := io.MultiReader(strings.NewReader("Email\na@x.example\n"), iotest.ErrReader(boom))
	_, err := csvimport.Read(in, csvimport.Options{})
	if leadflow.ErrorCode(err) != leadflow.EINTERNAL || !errors.Is(err, boom) {
		t.Errorf("err = %v, want internal wrapping %v", err, boom)
	}
}

func TestReadProgress(t *testing.T) {
	t.Parallel()
	in := "Email,Name\n" + strings.Repeat("someone@example.com,Some One\n", 10_000)
	var calls []int64
	res, err := csvimport.Read(iotest.HalfReader(strings.NewReader(in)), csvimport.Options{
		Progress: func(n int64) { calls = append(calls, n) },
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Rows) != 1 || res.Merged != 9_999 {
		t.Errorf("rows = %d, merged = %d", len(res.Rows), res.Merged)
	}
	if len(calls) < 3 {
		t.Fatalf("progress called %d times, want several: %v", len(calls), calls)
	}
	if !slices.IsSorted(calls) || calls[len(calls)-1] != int64(len(in)) {
		t.Errorf("progress = %v, want increasing up to %d", calls, len(in))
	}
}

func BenchmarkRead100k(b *testing.B) {
	var buf bytes.Buffer
	buf.WriteString("メールアドレス,姓,名,会社名,部署,役職,従業員数,電話番号,都道府県,来場日\n")
	for i := range 100_000 {
		fmt.Fprintf(&buf, "user%d@example.co.jp,山田,太郎%d,株式会社サンプル%d,営業部,部長,\"1,%03d名\",03-1234-%04d,東京都,2024-05-1%d\n",
			i, i, i%500, i%1000, i%10000, i%10)
	}
	in := buf.Bytes()
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		res, err := csvimport.Read(bytes.NewReader(in), csvimport.Options{})
		if err != nil {
			b.Fatal(err)
		}
		if len(res.Rows) != 100_000 {
			b.Fatalf("rows = %d, want 100000", len(res.Rows))
		}
	}
}
