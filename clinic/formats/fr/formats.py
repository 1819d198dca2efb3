# Canadian French writes times as "9 h 00" (Office québécois de la langue française).
DATE_FORMAT = "j F Y"
TIME_FORMAT = r"G \h i"
DATETIME_FORMAT = r"j F Y, G \h i"
SHORT_DATE_FORMAT = "Y-m-d"
SHORT_DATETIME_FORMAT = r"Y-m-d G \h i"
FIRST_DAY_OF_WEEK = 0  # Sunday, as calendars in Canada show it
DECIMAL_SEPARATOR = ","
THOUSAND_SEPARATOR = "\xa0"
NUMBER_GROUPING = 3
MONTH_DAY_FORMAT = "j F"
