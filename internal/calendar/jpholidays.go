package calendar

import (
	"slices"
	"time"

	"github.com/rickar/cal/v2"
	"github.com/rickar/cal/v2/jp"
)

// Japanese holidays come in three kinds under the National Holidays Act
// (国民の祝日に関する法律):
//
//   - 国民の祝日 (art. 2): the named holidays. Their dates come from
//     rickar/cal's jp package, with the corrections below.
//   - 振替休日 (art. 3(2)): when a named holiday falls on a Sunday, the
//     nearest following day that is not a named holiday is a holiday.
//   - 国民の休日 (art. 3(3)): a day between two named holidays is a holiday.
//
// We take only the named holidays' actual dates from rickar/cal and apply
// articles 3(2) and 3(3) ourselves, because the library gets them by fixed
// shortcuts: 振替休日 as "Sunday moves to Monday" (with hand-set offsets for
// Golden Week) and 国民の休日 as a hard-coded list of Septembers 2009–2032.
// The statute covers every year.
//
// Corrections to rickar/cal v2.1.13 (each covered by a test):
//   - Mountain Day (山の日) moved for the Tokyo Olympics to 2020-08-10 and
//     2021-08-08 (with 振替休日 2021-08-09); the library keeps 08-11.
//   - No Emperor's Birthday (天皇誕生日) in 2019: Akihito had abdicated by
//     12-23 and Naruhito's 02-23 starts in 2020; the library gives 2019-12-23.
//   - The library's Holiday.Func for the vernal equinox writes to the shared
//     package variable (a data race under concurrent use); we call Calc on a
//     copy.
//   - Names are English in the library; the settings page shows the official
//     Japanese names, mapped below.
//
// The Cabinet Office (内閣府) lists both 振替休日 and 国民の休日 as "休日"; we keep
// the two names apart because admins ask which is which. Equinox days are
// fixed by the Cabinet each February for the next year; for later years they
// are the astronomical prediction the library computes. Rules before 2020
// (e.g. the pre-2000 fixed dates of 成人の日) are not modelled.

// holidayNames maps rickar/cal's holidays to their official Japanese names.
var holidayNames = map[*cal.Holiday]string{
	jp.NewYear:                           "元日",
	jp.ComingOfAgeDay:                    "成人の日",
	jp.NationalFoundationDay:             "建国記念の日",
	jp.TheEmperorsBirthday:               "天皇誕生日",
	jp.VernalEquinoxDay:                  "春分の日",
	jp.ShowaDay:                          "昭和の日",
	jp.ConstitutionMemorialDay:           "憲法記念日",
	jp.GreeneryDay:                       "みどりの日",
	jp.ChildrensDay:                      "こどもの日",
	jp.MarineDay:                         "海の日",
	jp.MountainDay:                       "山の日",
	jp.RespectForTheAgedDay:              "敬老の日",
	jp.AutumnalEquinoxDay:                "秋分の日",
	jp.SportsDay:                         "スポーツの日",
	jp.CultureDay:                        "文化の日",
	jp.LaborThanksgivingDay:              "勤労感謝の日",
	jp.TheNewEmperorEnthronementDay:      "天皇の即位の日",
	jp.TheNewEmperorEnthronementCeremony: "即位礼正殿の儀の行われる日",
}

// ruleHolidays are the library's hard-coded citizens' holidays, which we
// derive from article 3(3) instead.
var ruleHolidays = []*cal.Holiday{
	jp.NationalHolidayBetweenRespectForTheAgedDayAndAutumnalEquinoxDay,
	jp.NationalHolidayBetweenShowaDayAndNewEmperorEnthronementDay,
	jp.NationalHolidayBetweenTheNewEmperorEnthronementDayAndConstitutionMemorialDay,
}

// Names of the holidays that article 3 adds.
const (
	substituteHolidayName = "振替休日"
	citizensHolidayName   = "国民の休日"
)

// nationalHolidays returns every national holiday of year with its Japanese name.
func nationalHolidays(year int) map[Date]string {
	named := map[Date]string{}
	for _, h := range jp.Holidays {
		if slices.Contains(ruleHolidays, h) {
			continue
		}
		hc := *h // Calc on a copy: some library Funcs write to the holiday
		actual, _ := hc.Calc(year)
		if actual.IsZero() {
			continue
		}
		day, name := fixHoliday(h, year, dateOf(actual))
		if name == "" {
			continue
		}
		named[day] = name
	}
	out := make(map[Date]string, len(named)+4)
	for day, name := range named {
		out[day] = name
	}
	days := make([]Date, 0, len(named))
	for day := range named {
		days = append(days, day)
	}
	slices.SortFunc(days, Date.compare)
	for _, day := range days {
		// Article 3(2): 振替休日.
		if day.weekday() == time.Sunday {
			next := day.addDays(1)
			for out[next] != "" {
				next = next.addDays(1)
			}
			if next.Year == year {
				out[next] = substituteHolidayName
			}
		}
		// Article 3(3): 国民の休日, a non-holiday between two named holidays.
		mid := day.addDays(1)
		if named[mid] == "" && named[day.addDays(2)] != "" && out[mid] == "" {
			out[mid] = citizensHolidayName
		}
	}
	return out
}

// fixHoliday returns the date and Japanese name of library holiday h in
// year, correcting the library where it is wrong; an empty name drops it.
func fixHoliday(h *cal.Holiday, year int, day Date) (Date, string) {
	name, ok := holidayNames[h]
	if !ok {
		// A holiday added by a newer library version: keep its date, and
		// the English name until it is mapped here.
		name = h.Name
	}
	switch {
	case h == jp.MountainDay && year == 2020:
		day = Date{2020, time.August, 10}
	case h == jp.MountainDay && year == 2021:
		day = Date{2021, time.August, 8} // a Sunday: 08-09 becomes 振替休日 by art. 3(2)
	case h == jp.TheEmperorsBirthday && year == 2019:
		return day, ""
	case h == jp.SportsDay && year < 2020:
		name = "体育の日"
	}
	return day, name
}
