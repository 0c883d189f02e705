<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="fa_IR" sourcelanguage="en_GB">
  <context>
    <name>App</name>
    <message>
      <location filename="../../ui/app.py" line="97" />
      <source>Settings not loaded</source>
      <translation>تنظیمات بارگذاری نشد</translation>
    </message>
    <message>
      <location filename="../../ui/app.py" line="98" />
      <source>{error}

callsys runs with the default settings for now.</source>
      <translation>{error}

callsys فعلاً با تنظیمات پیش‌فرض اجرا می‌شود.</translation>
    </message>
  </context>
  <context>
    <name>CallLog</name>
    <message>
      <location filename="../../ui/calllogview.py" line="224" />
      <source>Direction</source>
      <translation>جهت</translation>
    </message>
    <message>
      <location filename="../../ui/calllogview.py" line="226" />
      <source>Duration</source>
      <translation>مدت</translation>
    </message>
    <message>
      <location filename="../../ui/calllogview.py" line="225" />
      <source>Line</source>
      <translation>خط</translation>
    </message>
    <message>
      <location filename="../../ui/calllogview.py" line="222" />
      <source>Name</source>
      <translation>نام</translation>
    </message>
    <message>
      <location filename="../../ui/calllogview.py" line="255" />
      <source>No caller ID</source>
      <translation>شماره نامشخص</translation>
    </message>
    <message>
      <location filename="../../ui/calllogview.py" line="223" />
      <source>Number</source>
      <translation>شماره</translation>
    </message>
    <message>
      <location filename="../../ui/calllogview.py" line="227" />
      <source>Result</source>
      <translation>نتیجه</translation>
    </message>
    <message>
      <location filename="../../ui/calllogview.py" line="221" />
      <source>Time</source>
      <translation>زمان</translation>
    </message>
    <message>
      <location filename="../../ui/calllogview.py" line="253" />
      <source>Unknown caller</source>
      <translation>تماس‌گیرنده ناشناس</translation>
    </message>
  </context>
  <context>
    <name>CallPanel</name>
    <message>
      <location filename="../../ui/callpanel.py" line="325" />
      <source>Answer</source>
      <translation>پاسخ</translation>
    </message>
    <message>
      <location filename="../../ui/callpanel.py" line="374" />
      <source>Call in progress</source>
      <translation>تماس جاری</translation>
    </message>
    <message>
      <location filename="../../ui/callpanel.py" line="368" />
      <source>Hang up</source>
      <translation>قطع تماس</translation>
    </message>
    <message>
      <location filename="../../ui/callpanel.py" line="369" />
      <source>Hang up the call</source>
      <translation>قطع کردن تماس</translation>
    </message>
    <message>
      <location filename="../../ui/callpanel.py" line="274" />
      <source>Hold</source>
      <translation>نگه‌داشتن</translation>
    </message>
    <message>
      <location filename="../../ui/callpanel.py" line="370" />
      <source>Hold or resume the call</source>
      <translation>نگه‌داشتن یا ازسرگیری تماس</translation>
    </message>
    <message>
      <location filename="../../ui/callpanel.py" line="364" />
      <source>Keypad</source>
      <translation>صفحه‌کلید</translation>
    </message>
    <message>
      <location filename="../../ui/callpanel.py" line="264" />
      <source>Line: {line}</source>
      <translation>خط: {line}</translation>
    </message>
    <message>
      <location filename="../../ui/callpanel.py" line="280" />
      <source>Mute</source>
      <translation>بی‌صدا</translation>
    </message>
    <message>
      <location filename="../../ui/callpanel.py" line="371" />
      <source>Mute the microphone</source>
      <translation>بی‌صدا کردن میکروفون</translation>
    </message>
    <message>
      <location filename="../../ui/callpanel.py" line="366" />
      <source>Number to transfer to</source>
      <translation>شماره مقصد انتقال</translation>
    </message>
    <message>
      <location filename="../../ui/callpanel.py" line="335" />
      <source>Other calls ({count})</source>
      <translation>تماس‌های دیگر ({count})</translation>
    </message>
    <message>
      <location filename="../../ui/callpanel.py" line="274" />
      <source>Resume</source>
      <translation>ازسرگیری</translation>
    </message>
    <message>
      <location filename="../../ui/callpanel.py" line="372" />
      <source>Show the keypad</source>
      <translation>نمایش صفحه‌کلید</translation>
    </message>
    <message>
      <location filename="../../ui/callpanel.py" line="367" />
      <source>Transfer</source>
      <translation>انتقال</translation>
    </message>
    <message>
      <location filename="../../ui/callpanel.py" line="365" />
      <source>Transfer to…</source>
      <translation>انتقال به…</translation>
    </message>
    <message>
      <location filename="../../ui/callpanel.py" line="253" />
      <source>Unknown caller</source>
      <translation>تماس‌گیرنده ناشناس</translation>
    </message>
    <message>
      <location filename="../../ui/callpanel.py" line="280" />
      <source>Unmute</source>
      <translation>صدادار کردن</translation>
    </message>
    <message>
      <location filename="../../ui/callpanel.py" line="320" />
      <source>Waiting</source>
      <translation>در انتظار</translation>
    </message>
  </context>
  <context>
    <name>Details</name>
    <message>
      <location filename="../../ui/details.py" line="47" />
      <source>Call</source>
      <translation>تماس</translation>
    </message>
    <message>
      <location filename="../../ui/details.py" line="48" />
      <source>Call {number}</source>
      <translation>تماس با {number}</translation>
    </message>
    <message>
      <location filename="../../ui/details.py" line="39" />
      <source>Company:</source>
      <translation>شرکت:</translation>
    </message>
    <message>
      <location filename="../../ui/details.py" line="36" />
      <source>Name:</source>
      <translation>نام:</translation>
    </message>
    <message>
      <location filename="../../ui/details.py" line="56" />
      <source>No numbers</source>
      <translation>بدون شماره</translation>
    </message>
    <message>
      <location filename="../../ui/details.py" line="54" />
      <source>Phone:</source>
      <translation>تلفن:</translation>
    </message>
    <message>
      <location filename="../../ui/details.py" line="31" />
      <source>Record</source>
      <translation>رکورد</translation>
    </message>
    <message>
      <location filename="../../ui/details.py" line="37" />
      <source>Type:</source>
      <translation>نوع:</translation>
    </message>
  </context>
  <context>
    <name>MainWindow</name>
    <message>
      <location filename="../../ui/mainwindow.py" line="347" />
      <source>&amp;About callsys</source>
      <translation>&amp;درباره callsys</translation>
    </message>
    <message>
      <location filename="../../ui/mainwindow.py" line="338" />
      <source>&amp;Do not disturb</source>
      <translation>&amp;مزاحم نشوید</translation>
    </message>
    <message>
      <location filename="../../ui/mainwindow.py" line="334" />
      <source>&amp;File</source>
      <translation>&amp;پرونده</translation>
    </message>
    <message>
      <location filename="../../ui/mainwindow.py" line="346" />
      <source>&amp;Help</source>
      <translation>&amp;راهنما</translation>
    </message>
    <message>
      <location filename="../../ui/mainwindow.py" line="341" />
      <source>&amp;Jalali calendar</source>
      <translation>تقویم &amp;شمسی</translation>
    </message>
    <message>
      <location filename="../../ui/mainwindow.py" line="340" />
      <source>&amp;Language</source>
      <translation>&amp;زبان</translation>
    </message>
    <message>
      <location filename="../../ui/mainwindow.py" line="311" />
      <source>&amp;Line:</source>
      <translation>&amp;خط:</translation>
    </message>
    <message>
      <location filename="../../ui/mainwindow.py" line="308" />
      <source>&amp;Number:</source>
      <translation>&amp;شماره:</translation>
    </message>
    <message>
      <location filename="../../ui/mainwindow.py" line="337" />
      <source>&amp;Phone</source>
      <translation>&amp;تلفن</translation>
    </message>
    <message>
      <location filename="../../ui/mainwindow.py" line="336" />
      <source>&amp;Quit</source>
      <translation>&amp;خروج</translation>
    </message>
    <message>
      <location filename="../../ui/mainwindow.py" line="343" />
      <source>&amp;Ring now</source>
      <translation>&amp;زنگ آزمایشی</translation>
    </message>
    <message>
      <location filename="../../ui/mainwindow.py" line="335" />
      <source>&amp;Settings…</source>
      <translation>&amp;تنظیمات…</translation>
    </message>
    <message>
      <location filename="../../ui/mainwindow.py" line="342" />
      <source>&amp;Simulate</source>
      <translation>&amp;شبیه‌سازی</translation>
    </message>
    <message>
      <location filename="../../ui/mainwindow.py" line="339" />
      <source>&amp;View</source>
      <translation>&amp;نما</translation>
    </message>
    <message>
      <location filename="../../ui/mainwindow.py" line="753" />
      <source>About callsys</source>
      <translation>درباره callsys</translation>
    </message>
    <message>
      <location filename="../../ui/mainwindow.py" line="326" />
      <source>All calls</source>
      <translation>همه تماس‌ها</translation>
    </message>
    <message>
      <location filename="../../ui/mainwindow.py" line="313" />
      <source>Call</source>
      <translation>تماس</translation>
    </message>
    <message>
      <location filename="../../ui/mainwindow.py" line="79" />
      <source>Call answered elsewhere</source>
      <translation>تماسی که جای دیگر پاسخ داده شد</translation>
    </message>
    <message>
      <location filename="../../ui/mainwindow.py" line="320" />
      <source>Call log</source>
      <translation>فهرست تماس‌ها</translation>
    </message>
    <message>
      <location filename="../../ui/mainwindow.py" line="314" />
      <source>Call the number</source>
      <translation>تماس با این شماره</translation>
    </message>
    <message>
      <location filename="../../ui/mainwindow.py" line="80" />
      <source>Call with IVR values</source>
      <translation>تماس با ورودی‌های منوی صوتی (IVR)</translation>
    </message>
    <message>
      <location filename="../../ui/mainwindow.py" line="317" />
      <source>Calls of this session</source>
      <translation>تماس‌های این نشست</translation>
    </message>
    <message>
      <location filename="../../ui/mainwindow.py" line="463" />
      <source>Connecting to the phone system…</source>
      <translation>در حال اتصال به سامانه تلفن…</translation>
    </message>
    <message>
      <location filename="../../ui/mainwindow.py" line="469" />
      <source>Do not disturb</source>
      <translation>مزاحم نشوید</translation>
    </message>
    <message>
      <location filename="../../ui/mainwindow.py" line="316" />
      <source>Hide this message</source>
      <translation>پنهان کردن این پیام</translation>
    </message>
    <message>
      <location filename="../../ui/mainwindow.py" line="328" />
      <source>Incoming</source>
      <translation>ورودی</translation>
    </message>
    <message>
      <location filename="../../ui/mainwindow.py" line="76" />
      <source>Incoming call, answered</source>
      <translation>تماس ورودی، پاسخ‌داده‌شده</translation>
    </message>
    <message>
      <location filename="../../ui/mainwindow.py" line="312" />
      <source>Line to dial from</source>
      <translation>خط برای شماره‌گیری</translation>
    </message>
    <message>
      <location filename="../../ui/mainwindow.py" line="327" />
      <source>Missed</source>
      <translation>بی پاسخ</translation>
    </message>
    <message>
      <location filename="../../ui/mainwindow.py" line="77" />
      <source>Missed call</source>
      <translation>تماس بی پاسخ</translation>
    </message>
    <message>
      <location filename="../../ui/mainwindow.py" line="465" />
      <source>No phone connection</source>
      <translation>اتصال تلفن تنظیم نشده</translation>
    </message>
    <message>
      <location filename="../../ui/mainwindow.py" line="309" />
      <source>Number or tel: link — Enter dials</source>
      <translation>شماره یا پیوند tel: — با Enter شماره‌گیری می‌شود</translation>
    </message>
    <message>
      <location filename="../../ui/mainwindow.py" line="310" />
      <source>Number to dial</source>
      <translation>شماره برای تماس</translation>
    </message>
    <message>
      <location filename="../../ui/mainwindow.py" line="329" />
      <source>Outgoing</source>
      <translation>خروجی</translation>
    </message>
    <message>
      <location filename="../../ui/mainwindow.py" line="83" />
      <source>Outgoing call</source>
      <translation>تماس خروجی</translation>
    </message>
    <message>
      <location filename="../../ui/mainwindow.py" line="464" />
      <source>Phone offline</source>
      <translation>تلفن قطع است</translation>
    </message>
    <message>
      <location filename="../../ui/mainwindow.py" line="462" />
      <source>Phone ready</source>
      <translation>تلفن آماده است</translation>
    </message>
    <message>
      <location filename="../../ui/mainwindow.py" line="78" />
      <source>Rejected call</source>
      <translation>تماس ردشده</translation>
    </message>
    <message>
      <location filename="../../ui/mainwindow.py" line="319" />
      <source>Search the call log</source>
      <translation>جستجو در فهرست تماس‌ها</translation>
    </message>
    <message>
      <location filename="../../ui/mainwindow.py" line="318" />
      <source>Search the log</source>
      <translation>جستجو در فهرست</translation>
    </message>
    <message>
      <location filename="../../ui/mainwindow.py" line="725" />
      <source>Settings are edited in the settings file for now.</source>
      <translation>فعلاً تنظیمات در پرونده تنظیمات ویرایش می‌شود.</translation>
    </message>
    <message>
      <location filename="../../ui/mainwindow.py" line="321" />
      <source>Show</source>
      <translation>نمایش</translation>
    </message>
    <message>
      <location filename="../../ui/mainwindow.py" line="537" />
      <source>Show the missed calls</source>
      <translation>نمایش تماس‌های بی پاسخ</translation>
    </message>
    <message>
      <location filename="../../ui/mainwindow.py" line="492" />
      <source>The CRM is not available: {why} Callers are not identified.</source>
      <translation>CRM در دسترس نیست: {why} تماس‌گیرندگان شناسایی نمی‌شوند.</translation>
    </message>
    <message>
      <location filename="../../ui/mainwindow.py" line="498" />
      <source>The call log cannot be saved: {why}</source>
      <translation>فهرست تماس‌ها ذخیره نمی‌شود: {why}</translation>
    </message>
    <message>
      <location filename="../../ui/mainwindow.py" line="431" />
      <source>The caller could not be looked up: {why}</source>
      <translation>جستجوی تماس‌گیرنده انجام نشد: {why}</translation>
    </message>
    <message>
      <location filename="../../ui/mainwindow.py" line="764" />
      <source>The clipboard holds no number to dial.</source>
      <translation>در حافظه موقت شماره‌ای برای تماس نیست.</translation>
    </message>
    <message>
      <location filename="../../ui/mainwindow.py" line="578" />
      <source>The phone connection cannot do that.</source>
      <translation>اتصال تلفن از این کار پشتیبانی نمی‌کند.</translation>
    </message>
    <message>
      <location filename="../../ui/mainwindow.py" line="525" />
      <source>The phone connection cannot place calls.</source>
      <translation>با این اتصال تلفن نمی‌توان تماس گرفت.</translation>
    </message>
    <message>
      <location filename="../../ui/mainwindow.py" line="484" />
      <source>The phone connection could not start: {why} Calls cannot be placed or answered until it is fixed in Settings.</source>
      <translation>اتصال تلفن راه‌اندازی نشد: {why} تا وقتی در تنظیمات اصلاح نشود، نمی‌توان تماس گرفت یا پاسخ داد.</translation>
    </message>
    <message>
      <location filename="../../ui/mainwindow.py" line="82" />
      <source>Two waiting calls</source>
      <translation>دو تماس در انتظار</translation>
    </message>
    <message>
      <location filename="../../ui/mainwindow.py" line="315" />
      <source>Use the simulator</source>
      <translation>استفاده از شبیه‌ساز</translation>
    </message>
    <message>
      <location filename="../../ui/mainwindow.py" line="81" />
      <source>Waiting call</source>
      <translation>تماس در انتظار</translation>
    </message>
    <message>
      <location filename="../../ui/mainwindow.py" line="754" />
      <source>callsys {version} — joins your phone system to Microsoft Dynamics 365. Free software under the GPL.</source>
      <translation>callsys نسخه {version} — سامانه تلفن شما را به Microsoft Dynamics 365 وصل می‌کند. نرم‌افزار آزاد با مجوز GPL.</translation>
    </message>
    <message>
      <location filename="../../ui/mainwindow.py" line="543" />
      <source>callsys — calls and CRM</source>
      <translation>callsys — تماس‌ها و CRM</translation>
    </message>
    <message>
      <location filename="../../ui/mainwindow.py" line="535" />
      <source>{count} missed</source>
      <translation>{count} بی پاسخ</translation>
    </message>
    <message>
      <location filename="../../ui/mainwindow.py" line="608" />
      <source>“{text}” is not a number that can be dialled.</source>
      <translation>«{text}» شماره‌ای نیست که بتوان با آن تماس گرفت.</translation>
    </message>
  </context>
  <context>
    <name>Popup</name>
    <message>
      <location filename="../../ui/popup.py" line="228" />
      <source>Answer</source>
      <translation>پاسخ</translation>
    </message>
    <message>
      <location filename="../../ui/popup.py" line="230" />
      <source>Answer the call</source>
      <translation>پاسخ به تماس</translation>
    </message>
    <message>
      <location filename="../../ui/popup.py" line="215" />
      <source>Caller entered: {values}</source>
      <translation>ورودی تماس‌گیرنده: {values}</translation>
    </message>
    <message>
      <location filename="../../ui/popup.py" line="54" />
      <source>Good afternoon, {name}</source>
      <translation>عصر بخیر، {name}</translation>
    </message>
    <message>
      <location filename="../../ui/popup.py" line="55" />
      <source>Good evening, {name}</source>
      <translation>وقت بخیر، {name}</translation>
    </message>
    <message>
      <location filename="../../ui/popup.py" line="52" />
      <source>Good morning, {name}</source>
      <translation>صبح بخیر، {name}</translation>
    </message>
    <message>
      <location filename="../../ui/popup.py" line="186" />
      <source>Incoming call</source>
      <translation>تماس ورودی</translation>
    </message>
    <message>
      <location filename="../../ui/popup.py" line="189" />
      <source>Line: {line}</source>
      <translation>خط: {line}</translation>
    </message>
    <message>
      <location filename="../../ui/popup.py" line="200" />
      <source>Looking up…</source>
      <translation>در حال جستجو…</translation>
    </message>
    <message>
      <location filename="../../ui/popup.py" line="213" />
      <source>No caller ID</source>
      <translation>شماره نامشخص</translation>
    </message>
    <message>
      <location filename="../../ui/popup.py" line="207" />
      <source>Not in the directory</source>
      <translation>در فهرست مخاطبان نیست</translation>
    </message>
    <message>
      <location filename="../../ui/popup.py" line="195" />
      <source>Open the record</source>
      <translation>باز کردن رکورد</translation>
    </message>
    <message>
      <location filename="../../ui/popup.py" line="229" />
      <source>Reject</source>
      <translation>رد تماس</translation>
    </message>
    <message>
      <location filename="../../ui/popup.py" line="231" />
      <source>Reject the call</source>
      <translation>رد کردن تماس</translation>
    </message>
    <message>
      <location filename="../../ui/popup.py" line="202" />
      <source>Unknown caller</source>
      <translation>تماس‌گیرنده ناشناس</translation>
    </message>
    <message>
      <location filename="../../ui/popup.py" line="186" />
      <source>Waiting call</source>
      <translation>تماس در انتظار</translation>
    </message>
    <message>
      <location filename="../../ui/popup.py" line="219" />
      <source>{count} records match this number — pick one:</source>
      <translation>{count} رکورد با این شماره جور است — یکی را انتخاب کنید:</translation>
    </message>
  </context>
  <context>
    <name>Settings</name>
    <message>
      <location filename="../../callsys/settings.py" line="349" />
      <source>0 = Canceled; or a custom status reason under Completed (e.g. 100000000) — see `callsys crm discover`</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../../callsys/settings.py" line="382" />
      <source>0 = any free port</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../../callsys/settings.py" line="433" />
      <source>A JSON file served to desktops at /update/manifest.json (SET5); empty = none</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../../callsys/settings.py" line="398" />
      <source>A desktop that stops answering for this long loses its seat</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../../callsys/settings.py" line="193" />
      <source>Added in front of every outgoing public number (SET3)</source>
      <translation>جلوی هر شماره بیرونی که گرفته می‌شود اضافه می‌شود (SET3)</translation>
    </message>
    <message>
      <location filename="../../callsys/settings.py" line="197" />
      <source>Answer calls automatically</source>
      <translation>پاسخ خودکار به تماس‌ها</translation>
    </message>
    <message>
      <location filename="../../callsys/settings.py" line="273" />
      <source>App registration (client) ID</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../../callsys/settings.py" line="404" />
      <source>Branches</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../../callsys/settings.py" line="247" />
      <source>CRM</source>
      <translation>CRM</translation>
    </message>
    <message>
      <location filename="../../callsys/settings.py" line="461" />
      <source>Calendar</source>
      <translation>تقویم</translation>
    </message>
    <message>
      <location filename="../../callsys/settings.py" line="359" />
      <source>Callers are found without a network round trip; kept current by `callsys crm sync`</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../../callsys/settings.py" line="239" />
      <source>Calls from numbers with fewer digits (internal extensions) are not logged to the CRM (IN13)</source>
      <translation>تماس از شماره‌های کوتاه‌تر (داخلی‌ها) در CRM ثبت نمی‌شود (IN13)</translation>
    </message>
    <message>
      <location filename="../../callsys/settings.py" line="310" />
      <source>Certificate (PEM with private key)</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../../callsys/settings.py" line="314" />
      <source>Certificate thumbprint</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../../callsys/settings.py" line="221" />
      <source>Completes local numbers dialled without it</source>
      <translation>شماره‌های محلی بدون کد شهر را کامل می‌کند</translation>
    </message>
    <message>
      <location filename="../../callsys/settings.py" line="341" />
      <source>Custom phone columns of the standard tables, e.g. ["contact.new_otherphone"] (IN2)</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../../callsys/settings.py" line="468" />
      <source>Database file</source>
      <translation>پرونده پایگاه داده</translation>
    </message>
    <message>
      <location filename="../../callsys/settings.py" line="211" />
      <source>Default country</source>
      <translation>کشور پیش‌فرض</translation>
    </message>
    <message>
      <location filename="../../callsys/settings.py" line="195" />
      <source>Default line</source>
      <translation>خط پیش‌فرض</translation>
    </message>
    <message>
      <location filename="../../callsys/settings.py" line="423" />
      <source>Desktop agents</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../../callsys/settings.py" line="388" />
      <source>Desktop sessions at once</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../../callsys/settings.py" line="196" />
      <source>Do not disturb</source>
      <translation>مزاحم نشوید</translation>
    </message>
    <message>
      <location filename="../../callsys/settings.py" line="237" />
      <source>Do not log numbers shorter than</source>
      <translation>ثبت نکردن شماره‌های کوتاه‌تر از</translation>
    </message>
    <message>
      <location filename="../../callsys/settings.py" line="251" />
      <source>Dynamics 365 address</source>
      <translation>نشانی Dynamics 365</translation>
    </message>
    <message>
      <location filename="../../callsys/settings.py" line="415" />
      <source>Dynamics users by extension</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../../callsys/settings.py" line="470" />
      <source>Empty = the platform's data folder</source>
      <translation>خالی = پوشه داده‌های سیستم</translation>
    </message>
    <message>
      <location filename="../../callsys/settings.py" line="339" />
      <source>Extra phone columns</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../../callsys/settings.py" line="328" />
      <source>Extra tables with phone numbers</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../../callsys/settings.py" line="396" />
      <source>Heartbeat timeout (seconds)</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../../callsys/settings.py" line="449" />
      <source>How long a stopping server keeps sending queued CRM writes; the rest stays queued on disk</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../../callsys/settings.py" line="390" />
      <source>How many desktops may be connected at the same time (ARCH3)</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../../callsys/settings.py" line="357" />
      <source>Keep a local phone index</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../../callsys/settings.py" line="320" />
      <source>Keep the sign-in unencrypted</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../../callsys/settings.py" line="457" />
      <source>Language</source>
      <translation>زبان</translation>
    </message>
    <message>
      <location filename="../../callsys/settings.py" line="227" />
      <source>Line names by dialled number</source>
      <translation>نام خط‌ها بر اساس شماره گرفته‌شده</translation>
    </message>
    <message>
      <location filename="../../callsys/settings.py" line="378" />
      <source>Listen on address</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../../callsys/settings.py" line="382" />
      <source>Listen on port</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../../callsys/settings.py" line="219" />
      <source>Local area code</source>
      <translation>کد شهر</translation>
    </message>
    <message>
      <location filename="../../callsys/settings.py" line="439" />
      <source>Longest wait between CRM retries (seconds)</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../../callsys/settings.py" line="269" />
      <source>Microsoft Entra tenant</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../../callsys/settings.py" line="278" />
      <source>Model-driven app ID</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../../callsys/settings.py" line="213" />
      <source>Numbers written without a country code belong to this country</source>
      <translation>شماره‌های بدون کد کشور متعلق به این کشورند</translation>
    </message>
    <message>
      <location filename="../../callsys/settings.py" line="425" />
      <source>One [[server.agents]] per person with a token: name, extensions, branch</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../../callsys/settings.py" line="406" />
      <source>One [[server.branches]] per PBX (SET6): name, provider (ami), options (host, port, username, secret_name), and optionally region, area_code, dial_prefix, dnis_lines</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../../callsys/settings.py" line="322" />
      <source>Only for computers without a system keyring: anyone who can read your files can use your sign-in</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../../callsys/settings.py" line="191" />
      <source>Outside-line prefix</source>
      <translation>پیش‌شماره خط بیرونی</translation>
    </message>
    <message>
      <location filename="../../callsys/settings.py" line="183" />
      <source>Phone connection</source>
      <translation>اتصال تلفن</translation>
    </message>
    <message>
      <location filename="../../callsys/settings.py" line="299" />
      <source>Prints an access token, e.g. az account get-access-token --resource https://contoso.crm.dynamics.com</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../../callsys/settings.py" line="202" />
      <source>Provider options</source>
      <translation>گزینه‌های اتصال تلفن</translation>
    </message>
    <message>
      <location filename="../../callsys/settings.py" line="280" />
      <source>Records open in this Dynamics 365 app (appid in the record address); empty = the default app</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../../callsys/settings.py" line="447" />
      <source>Shutdown flush time (seconds)</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../../callsys/settings.py" line="286" />
      <source>Sign-in method</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../../callsys/settings.py" line="347" />
      <source>Status reason of unanswered calls</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../../callsys/settings.py" line="271" />
      <source>Tenant ID or domain of the organisation (contoso.onmicrosoft.com)</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../../callsys/settings.py" line="297" />
      <source>Token command</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../../callsys/settings.py" line="304" />
      <source>Token environment variable</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../../callsys/settings.py" line="431" />
      <source>Update manifest file</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../../callsys/settings.py" line="229" />
      <source>Which company line a dialled number (DID) belongs to (IN12)</source>
      <translation>هر شماره گرفته‌شده (DID) به کدام خط شرکت تعلق دارد (IN12)</translation>
    </message>
    <message>
      <location filename="../../callsys/settings.py" line="441" />
      <source>While Dynamics 365 is unreachable, retries back off up to this long</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../../callsys/settings.py" line="417" />
      <source>Whose queue a call's activity lands in, e.g. { "1001" = "&lt;systemuserid&gt;" } (IN14)</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../../callsys/settings.py" line="330" />
      <source>[[crm.custom_tables]] logical = "new_patient", entity_set = "new_patients", id = "new_patientid", name = "new_name", phones = ["new_emergencyphone"] (IN2; `callsys crm discover` proposes them)</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../../callsys/settings.py" line="459" />
      <source>auto follows the system language</source>
      <translation>auto = زبان سیستم</translation>
    </message>
    <message>
      <location filename="../../callsys/settings.py" line="363" />
      <source>callsys server address</source>
      <translation>نشانی سرور callsys</translation>
    </message>
    <message>
      <location filename="../../callsys/settings.py" line="288" />
      <source>interactive = browser, then device code; client_secret/certificate = server application user; command/env = a token from a command or an environment variable (automation)</source>
      <translation type="unfinished" />
    </message>
    <message>
      <location filename="../../callsys/settings.py" line="249" />
      <source>local = the built-in directory; dynamics = Microsoft Dynamics 365</source>
      <translation>local = دفترچه داخلی برنامه؛ dynamics = Microsoft Dynamics 365</translation>
    </message>
    <message>
      <location filename="../../callsys/settings.py" line="185" />
      <source>sip = embedded softphone, ami = Asterisk, server = a callsys server, sim = simulator</source>
      <translation>sip = تلفن نرم‌افزاری داخلی، ami = Asterisk، server = سرور callsys، sim = شبیه‌ساز</translation>
    </message>
  </context>
  <context>
    <name>Texts</name>
    <message>
      <location filename="../../ui/texts.py" line="64" />
      <source>Account</source>
      <translation>حساب</translation>
    </message>
    <message>
      <location filename="../../ui/texts.py" line="41" />
      <source>Answered</source>
      <translation>پاسخ‌داده‌شده</translation>
    </message>
    <message>
      <location filename="../../ui/texts.py" line="53" />
      <source>Answered elsewhere</source>
      <translation>پاسخ در جای دیگر</translation>
    </message>
    <message>
      <location filename="../../ui/texts.py" line="49" />
      <source>Busy</source>
      <translation>مشغول</translation>
    </message>
    <message>
      <location filename="../../ui/texts.py" line="47" />
      <source>Caller hung up</source>
      <translation>تماس‌گیرنده قطع کرد</translation>
    </message>
    <message>
      <location filename="../../ui/texts.py" line="47" />
      <source>Cancelled</source>
      <translation>لغوشده</translation>
    </message>
    <message>
      <location filename="../../ui/texts.py" line="30" />
      <source>Connected</source>
      <translation>برقرار</translation>
    </message>
    <message>
      <location filename="../../ui/texts.py" line="62" />
      <source>Contact</source>
      <translation>مخاطب</translation>
    </message>
    <message>
      <location filename="../../ui/texts.py" line="26" />
      <source>Dialling</source>
      <translation>در حال شماره‌گیری</translation>
    </message>
    <message>
      <location filename="../../ui/texts.py" line="33" />
      <source>Ended</source>
      <translation>پایان‌یافته</translation>
    </message>
    <message>
      <location filename="../../ui/texts.py" line="55" />
      <source>Failed</source>
      <translation>ناموفق</translation>
    </message>
    <message>
      <location filename="../../ui/texts.py" line="18" />
      <source>Incoming</source>
      <translation>ورودی</translation>
    </message>
    <message>
      <location filename="../../ui/texts.py" line="66" />
      <source>Lead</source>
      <translation>سرنخ</translation>
    </message>
    <message>
      <location filename="../../ui/texts.py" line="51" />
      <source>No answer</source>
      <translation>پاسخ نداد</translation>
    </message>
    <message>
      <location filename="../../ui/texts.py" line="32" />
      <source>On hold</source>
      <translation>نگه‌داشته‌شده</translation>
    </message>
    <message>
      <location filename="../../ui/texts.py" line="17" />
      <source>Outgoing</source>
      <translation>خروجی</translation>
    </message>
    <message>
      <location filename="../../ui/texts.py" line="69" />
      <source>Record</source>
      <translation>رکورد</translation>
    </message>
    <message>
      <location filename="../../ui/texts.py" line="45" />
      <source>Rejected</source>
      <translation>ردشده</translation>
    </message>
    <message>
      <location filename="../../ui/texts.py" line="24" />
      <source>Ringing</source>
      <translation>در حال زنگ خوردن</translation>
    </message>
    <message>
      <location filename="../../ui/texts.py" line="28" />
      <source>Ringing at the other end</source>
      <translation>زنگ در طرف مقابل</translation>
    </message>
    <message>
      <location filename="../../ui/texts.py" line="43" />
      <source>Unanswered</source>
      <translation>بی پاسخ</translation>
    </message>
    <message>
      <location filename="../../ui/texts.py" line="68" />
      <source>User</source>
      <translation>کاربر</translation>
    </message>
  </context>
</TS>
