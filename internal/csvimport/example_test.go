package csvimport_test

import (
	"fmt"
	"strings"

	"github.com/leadflow/leadflow/internal/csvimport"
)

// A trade-show attendee list as a Japanese form tool exports it: full-width
// digits, a size band, family and given name in separate columns, a booth
// column that becomes a trait, one row without an email and one visitor
// scanned twice.
func ExampleRead() {
	const list = `メールアドレス,姓,名,会社名,従業員数,ブース
TARO@example.co.jp,山田,太郎,株式会社サンプル,１００〜４９９名,A-12
,佐藤,花子,テスト商事,50,B-3
taro@example.co.jp,,,,,C-7
`
	res, err := csvimport.Read(strings.NewReader(list), csvimport.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, r := range res.Rows {
		p := r.Patch
		fmt.Printf("line %d: %s %s (%s, %d) booth %v\n", r.Line, *p.Email, *p.Name, *p.Company, *p.Employees, p.Traits["ブース"])
	}
	for _, r := range res.Rejects {
		fmt.Printf("rejected line %d: %s\n", r.Line, r.Reason)
	}
	fmt.Println("merged:", res.Merged, "encoding:", res.Encoding, "ブース →", res.Columns["ブース"])
	// Output:
	// line 2: taro@example.co.jp 山田 太郎 (株式会社サンプル, 100) booth C-7
	// rejected line 3: missing email
	// merged: 1 encoding: utf-8 ブース → trait
}

// ParseMap reads the --map flag of leadflow import.
func ExampleParseMap() {
	m, err := csvimport.ParseMap("連絡先=email,備考=-")
	fmt.Println(m, err)
	// Output: map[備考:- 連絡先:email] <nil>
}
