package gen

// Static vocabularies. Romanised forms feed email addresses and domains, so
// they contain only [a-z] (no digits, no dots, no hyphens): that keeps every
// generated address unambiguous and therefore unique.

type namePair struct{ kanji, roma string }

var familyNames = []namePair{
	{"佐藤", "sato"}, {"鈴木", "suzuki"}, {"高橋", "takahashi"}, {"田中", "tanaka"},
	{"伊藤", "ito"}, {"渡辺", "watanabe"}, {"山本", "yamamoto"}, {"中村", "nakamura"},
	{"小林", "kobayashi"}, {"加藤", "kato"}, {"吉田", "yoshida"}, {"山田", "yamada"},
	{"佐々木", "sasaki"}, {"山口", "yamaguchi"}, {"松本", "matsumoto"}, {"井上", "inoue"},
	{"木村", "kimura"}, {"林", "hayashi"}, {"斎藤", "saito"}, {"清水", "shimizu"},
	{"山崎", "yamazaki"}, {"森", "mori"}, {"池田", "ikeda"}, {"橋本", "hashimoto"},
	{"阿部", "abe"}, {"石川", "ishikawa"}, {"山下", "yamashita"}, {"中島", "nakajima"},
	{"石井", "ishii"}, {"小川", "ogawa"}, {"前田", "maeda"}, {"岡田", "okada"},
	{"長谷川", "hasegawa"}, {"藤田", "fujita"}, {"後藤", "goto"}, {"近藤", "kondo"},
	{"村上", "murakami"}, {"遠藤", "endo"}, {"青木", "aoki"}, {"坂本", "sakamoto"},
}

var givenNames = []namePair{
	{"健太", "kenta"}, {"翔太", "shota"}, {"大輔", "daisuke"}, {"拓也", "takuya"},
	{"直樹", "naoki"}, {"誠", "makoto"}, {"浩", "hiroshi"}, {"隆", "takashi"},
	{"亮", "ryo"}, {"達也", "tatsuya"}, {"和也", "kazuya"}, {"健一", "kenichi"},
	{"雄一", "yuichi"}, {"剛", "tsuyoshi"}, {"修", "osamu"}, {"聡", "satoshi"},
	{"恵", "megumi"}, {"美咲", "misaki"}, {"陽子", "yoko"}, {"裕子", "yuko"},
	{"直美", "naomi"}, {"由美", "yumi"}, {"麻衣", "mai"}, {"彩", "aya"},
	{"愛", "ai"}, {"真由美", "mayumi"}, {"智子", "tomoko"}, {"久美子", "kumiko"},
	{"さくら", "sakura"}, {"沙織", "saori"}, {"香織", "kaori"}, {"明美", "akemi"},
}

var westernFirst = []string{"James", "John", "Michael", "David", "Sarah", "Emily",
	"Jessica", "Daniel", "Chris", "Laura", "Kevin", "Anna", "Wei", "Priya"}

var westernLast = []string{"Smith", "Johnson", "Brown", "Lee", "Wilson", "Taylor",
	"Clark", "Lewis", "Walker", "Young", "Chen", "Tan", "Wang", "Kumar"}

// freeMailDomains are consumer addresses, which the hidden rule penalises.
var freeMailDomains = []string{"gmail.com", "yahoo.co.jp", "gmail.com", "icloud.com", "outlook.jp"}

var companyPrefixes = []namePair{
	{"東洋", "toyo"}, {"日本", "nihon"}, {"大和", "yamato"}, {"富士", "fuji"},
	{"三和", "sanwa"}, {"北陸", "hokuriku"}, {"中央", "chuo"}, {"関西", "kansai"},
	{"東海", "tokai"}, {"九州", "kyushu"}, {"湘南", "shonan"}, {"武蔵", "musashi"},
	{"相模", "sagami"}, {"信州", "shinshu"}, {"播磨", "harima"}, {"近江", "omi"},
	{"瀬戸内", "setouchi"}, {"北斗", "hokuto"}, {"朝日", "asahi"}, {"昭和", "showa"},
	{"大成", "taisei"}, {"協和", "kyowa"}, {"太陽", "taiyo"}, {"明治", "meiji"},
	{"共栄", "kyoei"}, {"光", "hikari"}, {"白山", "hakusan"}, {"青葉", "aoba"},
	{"桜", "sakura"}, {"若葉", "wakaba"}, {"東邦", "toho"}, {"新光", "shinko"},
	{"丸和", "maruwa"}, {"平和", "heiwa"}, {"高砂", "takasago"}, {"千代田", "chiyoda"},
	{"港", "minato"}, {"浪速", "naniwa"}, {"尾張", "owari"}, {"房総", "boso"},
}

// companyCore is the second half of a company name; it fixes the industry.
type companyCore struct {
	kanji, roma, industry, tld string
	corp                       bool // a 株式会社, named "株式会社X" or "X株式会社"
	size                       float64
}

// Industry ids as used by the default scoring model.
const (
	IndustryManufacturing = "manufacturing"
	IndustryIT            = "it"
	IndustryFinance       = "finance"
	IndustryRetail        = "retail"
	IndustryHealthcare    = "healthcare"
	IndustryEducation     = "education"
	IndustryGovernment    = "government"
	IndustryOther         = "other"
)

// companyCores: the number of cores per industry sets the industry mix;
// size scales the median head count.
var companyCores = []companyCore{
	{"精機", "seiki", IndustryManufacturing, ".co.jp", true, 1},
	{"電機", "denki", IndustryManufacturing, ".co.jp", true, 2},
	{"化学", "kagaku", IndustryManufacturing, ".co.jp", true, 2},
	{"製作所", "works", IndustryManufacturing, ".co.jp", true, 1},
	{"工業", "kogyo", IndustryManufacturing, ".co.jp", true, 1},
	{"金属", "kinzoku", IndustryManufacturing, ".co.jp", true, 1},
	{"重工", "juko", IndustryManufacturing, ".co.jp", true, 4},
	{"電子", "denshi", IndustryManufacturing, ".co.jp", true, 1.5},
	{"樹脂", "jushi", IndustryManufacturing, ".co.jp", true, 0.7},
	{"食品", "foods", IndustryManufacturing, ".co.jp", true, 1.5},
	{"システムズ", "systems", IndustryIT, ".co.jp", true, 1},
	{"ソリューションズ", "solutions", IndustryIT, ".co.jp", true, 1},
	{"テクノロジーズ", "tech", IndustryIT, ".com", true, 0.8},
	{"情報システム", "joho", IndustryIT, ".co.jp", true, 1.5},
	{"ソフト", "soft", IndustryIT, ".jp", true, 0.5},
	{"ネットワークス", "networks", IndustryIT, ".co.jp", true, 0.8},
	{"データ", "data", IndustryIT, ".com", true, 0.6},
	{"クラウド", "cloud", IndustryIT, ".jp", true, 0.4},
	{"デジタル", "digital", IndustryIT, ".co.jp", true, 0.6},
	{"銀行", "bank", IndustryFinance, ".co.jp", true, 6},
	{"証券", "sec", IndustryFinance, ".co.jp", true, 3},
	{"信用金庫", "shinkin", IndustryFinance, ".co.jp", false, 2},
	{"損害保険", "sonpo", IndustryFinance, ".co.jp", true, 5},
	{"リース", "lease", IndustryFinance, ".co.jp", true, 1},
	{"商事", "shoji", IndustryRetail, ".co.jp", true, 1},
	{"物産", "bussan", IndustryRetail, ".co.jp", true, 1.5},
	{"ストア", "store", IndustryRetail, ".jp", true, 1},
	{"百貨店", "dept", IndustryRetail, ".co.jp", true, 5},
	{"マート", "mart", IndustryRetail, ".jp", true, 2},
	{"病院", "hospital", IndustryHealthcare, ".or.jp", false, 3},
	{"製薬", "pharma", IndustryHealthcare, ".co.jp", true, 3},
	{"メディカル", "medical", IndustryHealthcare, ".co.jp", true, 0.8},
	{"クリニック", "clinic", IndustryHealthcare, ".jp", false, 0.15},
	{"大学", "univ", IndustryEducation, ".ac.jp", false, 8},
	{"学園", "gakuen", IndustryEducation, ".ac.jp", false, 2},
	{"教育", "kyoiku", IndustryEducation, ".co.jp", true, 0.6},
	{"市役所", "city", IndustryGovernment, ".lg.jp", false, 10},
	{"町役場", "town", IndustryGovernment, ".lg.jp", false, 2},
	{"公社", "kosha", IndustryGovernment, ".or.jp", false, 2},
	{"建設", "kensetsu", IndustryOther, ".co.jp", true, 1.5},
	{"不動産", "fudosan", IndustryOther, ".co.jp", true, 0.6},
	{"運輸", "unyu", IndustryOther, ".co.jp", true, 1.5},
	{"物流", "logi", IndustryOther, ".co.jp", true, 1.5},
	{"エネルギー", "energy", IndustryOther, ".co.jp", true, 3},
	{"広告", "ad", IndustryOther, ".co.jp", true, 0.5},
	{"トラベル", "travel", IndustryOther, ".jp", true, 0.6},
}

// Seniority levels used by the hidden rule.
const (
	senUnknown = iota
	senStudent
	senStaff
	senLead
	senManager
	senDirector
	senExecutive
)

type titleDef struct {
	title     string
	seniority int
	weight    float64
}

var titles = []titleDef{
	{"担当", senStaff, 18}, {"主任", senLead, 8}, {"係長", senLead, 5},
	{"課長", senManager, 12}, {"部長", senDirector, 8}, {"本部長", senDirector, 2},
	{"執行役員", senExecutive, 2}, {"取締役", senExecutive, 1.5}, {"代表取締役", senExecutive, 1},
	{"マネージャー", senManager, 4}, {"エンジニア", senStaff, 8}, {"Engineer", senStaff, 4},
	{"Manager", senManager, 5}, {"Director", senDirector, 2}, {"VP of Sales", senExecutive, 0.5},
	{"CTO", senExecutive, 0.5}, {"学生", senStudent, 3}, {"研究員", senStaff, 3},
	{"", senUnknown, 8}, {"情報システム部 担当", senStaff, 4}, {"営業企画", senStaff, 3},
	{"マーケティング部 課長", senManager, 3}, {"経営企画部 部長", senDirector, 1.5},
}

type prefecture struct {
	name, area string // area: telephone area code
	weight     float64
}

var prefectures = []prefecture{
	{"東京都", "03", 34}, {"大阪府", "06", 11}, {"神奈川県", "045", 8}, {"愛知県", "052", 7},
	{"埼玉県", "048", 4}, {"千葉県", "043", 3.5}, {"福岡県", "092", 4}, {"兵庫県", "078", 3.5},
	{"北海道", "011", 3}, {"京都府", "075", 2.5}, {"静岡県", "054", 2.5}, {"広島県", "082", 2},
	{"宮城県", "022", 2}, {"茨城県", "029", 1.5}, {"新潟県", "025", 1.2}, {"長野県", "026", 1.2},
	{"岐阜県", "058", 1}, {"群馬県", "027", 1}, {"栃木県", "028", 1}, {"岡山県", "086", 1},
	{"熊本県", "096", 1}, {"三重県", "059", 1}, {"沖縄県", "098", 0.8}, {"石川県", "076", 0.8},
	{"富山県", "076", 0.7}, {"滋賀県", "077", 0.7}, {"福島県", "024", 0.7}, {"鹿児島県", "099", 0.6},
}

// foreignCountries are the few non-Japanese leads (English names, no region).
var foreignCountries = []string{"US", "SG", "TW", "GB"}

type touchDef struct {
	source, medium, campaign string
	weight                   float64
	intent                   float64 // added to the lead's latent intent
}

// touches are the first-touch channels of a Japanese B2B marketer.
var touches = []touchDef{
	{"google", "cpc", "search-brand", 8, 0.10},
	{"google", "cpc", "search-ma-tool", 10, 0.05},
	{"yahoo", "cpc", "yss-generic", 4, 0},
	{"google", "organic", "", 18, 0},
	{"yahoo", "organic", "", 4, 0},
	{"(direct)", "(none)", "", 8, 0.05},
	{"seminar", "offline", "dx-seminar-tokyo", 6, 0.15},
	{"tradeshow", "offline", "展示会 Japan IT Week 春", 5, 0.05},
	{"tradeshow", "offline", "展示会 ものづくりワールド", 3, 0.05},
	{"partner", "referral", "partner-si", 5, 0.12},
	{"newsletter", "email", "newsletter", 6, 0},
	{"facebook", "paid_social", "fb-whitepaper", 4, -0.05},
	{"linkedin", "paid_social", "li-abm", 3, 0.05},
	{"webinar", "online", "webinar-lead-scoring", 5, 0.10},
}
