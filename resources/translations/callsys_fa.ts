<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="fa_IR" sourcelanguage="en_GB">
  <context>
    <name>Activity</name>
    <message>
      <location filename="../../ui/desktop.py" line="21" />
      <source>Incoming call</source>
      <translation>تماس ورودی</translation>
    </message>
    <message>
      <location filename="../../ui/desktop.py" line="22" />
      <source>Outgoing call</source>
      <translation>تماس خروجی</translation>
    </message>
    <message>
      <location filename="../../ui/desktop.py" line="20" />
      <source>Unanswered</source>
      <translation>بی پاسخ</translation>
    </message>
  </context>
  <context>
    <name>AudioPage</name>
    <message>
      <location filename="../../ui/audiosettings.py" line="468" />
      <source>For the built-in softphone. Devices are remembered by name, so a headset is found again after it is plugged into another port; “System default” follows the computer's own choice.</source>
      <translation>برای تلفن نرم‌افزاری داخلی. دستگاه‌ها با نامشان به خاطر سپرده می‌شوند، پس هدست پس از وصل شدن به درگاهی دیگر دوباره پیدا می‌شود؛ «پیش‌فرض سیستم» از انتخاب خود رایانه پیروی می‌کند.</translation>
    </message>
    <message>
      <location filename="../../ui/audiosettings.py" line="458" />
      <source>Hear yourself (echo)</source>
      <translation>شنیدن صدای خود (اکو)</translation>
    </message>
    <message>
      <location filename="../../ui/audiosettings.py" line="463" />
      <source>Look for audio devices again</source>
      <translation>جستجوی دوباره‌ی دستگاه‌های صوتی</translation>
    </message>
    <message>
      <location filename="../../ui/audiosettings.py" line="465" />
      <source>Look for devices again</source>
      <translation>جستجوی دوباره‌ی دستگاه‌ها</translation>
    </message>
    <message>
      <location filename="../../ui/audiosettings.py" line="464" />
      <source>Microphone level</source>
      <translation>سطح صدای میکروفون</translation>
    </message>
    <message>
      <location filename="../../ui/audiosettings.py" line="445" />
      <source>Microphone:</source>
      <translation>میکروفون:</translation>
    </message>
    <message>
      <location filename="../../ui/audiosettings.py" line="247" />
      <source>No audio devices found on this computer. Calls connect without sound until a microphone and a speaker (or a headset) are connected.</source>
      <translation>هیچ دستگاه صوتی روی این رایانه پیدا نشد. تا وقتی میکروفون و بلندگو (یا هدست) وصل نشود، تماس‌ها بدون صدا برقرار می‌شوند.</translation>
    </message>
    <message>
      <location filename="../../ui/audiosettings.py" line="243" />
      <source>No audio devices found: PortAudio cannot be used ({why}).</source>
      <translation>هیچ دستگاه صوتی پیدا نشد: PortAudio قابل استفاده نیست ({why}).</translation>
    </message>
    <message>
      <location filename="../../ui/audiosettings.py" line="451" />
      <source>Play a test tone</source>
      <translation>پخش صدای آزمایشی</translation>
    </message>
    <message>
      <location filename="../../ui/audiosettings.py" line="452" />
      <source>Play a test tone on the speaker</source>
      <translation>پخش صدای آزمایشی روی بلندگو</translation>
    </message>
    <message>
      <location filename="../../ui/audiosettings.py" line="460" />
      <source>Play the microphone back on the speaker during the test</source>
      <translation>پخش صدای میکروفون روی بلندگو در حین آزمایش</translation>
    </message>
    <message>
      <location filename="../../ui/audiosettings.py" line="328" />
      <source>Played: did you hear a beep?</source>
      <translation>پخش شد: صدای بوق را شنیدید؟</translation>
    </message>
    <message>
      <location filename="../../ui/audiosettings.py" line="298" />
      <source>Playing…</source>
      <translation>در حال پخش…</translation>
    </message>
    <message>
      <location filename="../../ui/audiosettings.py" line="447" />
      <source>Ringtone on:</source>
      <translation>پخش زنگ روی:</translation>
    </message>
    <message>
      <location filename="../../ui/audiosettings.py" line="446" />
      <source>Speaker:</source>
      <translation>بلندگو:</translation>
    </message>
    <message>
      <location filename="../../ui/audiosettings.py" line="454" />
      <source>Stop the test</source>
      <translation>توقف آزمایش</translation>
    </message>
    <message>
      <location filename="../../ui/audiosettings.py" line="213" />
      <source>System default</source>
      <translation>پیش‌فرض سیستم</translation>
    </message>
    <message>
      <location filename="../../ui/audiosettings.py" line="456" />
      <source>Test the microphone</source>
      <translation>آزمایش میکروفون</translation>
    </message>
    <message>
      <location filename="../../ui/audiosettings.py" line="462" />
      <source>Test the microphone with a level meter</source>
      <translation>آزمایش میکروفون با نمایشگر سطح صدا</translation>
    </message>
    <message>
      <location filename="../../ui/audiosettings.py" line="425" />
      <source>The microphone could not be opened: {why}</source>
      <translation>میکروفون باز نشد: {why}</translation>
    </message>
    <message>
      <location filename="../../ui/audiosettings.py" line="259" />
      <source>The phone's audio mode is “{mode}” (in the phone options): these devices are used only in the “device” mode.</source>
      <translation>حالت صدای تلفن «{mode}» است (در گزینه‌های تلفن): این دستگاه‌ها فقط در حالت «device» به کار می‌روند.</translation>
    </message>
    <message>
      <location filename="../../ui/audiosettings.py" line="325" />
      <source>The tone could not be played: {why}</source>
      <translation>صدای آزمایشی پخش نشد: {why}</translation>
    </message>
    <message>
      <location filename="../../ui/audiosettings.py" line="283" />
      <source>The {role} “{name}” is not connected: the system default is used until it is back.</source>
      <translation>{role} «{name}» وصل نیست: تا وقتی دوباره وصل شود، پیش‌فرض سیستم به کار می‌رود.</translation>
    </message>
    <message>
      <location filename="../../ui/audiosettings.py" line="439" />
      <source>microphone</source>
      <translation>میکروفون</translation>
    </message>
    <message>
      <location filename="../../ui/audiosettings.py" line="442" />
      <source>ringer</source>
      <translation>زنگ</translation>
    </message>
    <message>
      <location filename="../../ui/audiosettings.py" line="441" />
      <source>speaker</source>
      <translation>بلندگو</translation>
    </message>
    <message>
      <location filename="../../ui/audiosettings.py" line="222" />
      <source>{name} (not connected)</source>
      <translation>{name} (وصل نیست)</translation>
    </message>
  </context>
  <context>
    <name>CallLog</name>
    <message>
      <location filename="../../ui/calllogview.py" line="479" />
      <source>&amp;Add to contacts…</source>
      <translation>&amp;افزودن به مخاطبان…</translation>
    </message>
    <message>
      <location filename="../../ui/calllogview.py" line="476" />
      <source>&amp;Call back</source>
      <translation>تماس &amp;دوباره</translation>
    </message>
    <message>
      <location filename="../../ui/calllogview.py" line="478" />
      <source>&amp;Open record</source>
      <translation>باز کردن &amp;رکورد</translation>
    </message>
    <message>
      <location filename="../../ui/calllogview.py" line="391" />
      <source>Conference</source>
      <translation>کنفرانس</translation>
    </message>
    <message>
      <location filename="../../ui/calllogview.py" line="477" />
      <source>Cop&amp;y number</source>
      <translation>&amp;کپی شماره</translation>
    </message>
    <message>
      <location filename="../../ui/calllogview.py" line="348" />
      <source>Direction</source>
      <translation>جهت</translation>
    </message>
    <message>
      <location filename="../../ui/calllogview.py" line="350" />
      <source>Duration</source>
      <translation>مدت</translation>
    </message>
    <message>
      <location filename="../../ui/calllogview.py" line="349" />
      <source>Line</source>
      <translation>خط</translation>
    </message>
    <message>
      <location filename="../../ui/calllogview.py" line="346" />
      <source>Name</source>
      <translation>نام</translation>
    </message>
    <message>
      <location filename="../../ui/calllogview.py" line="379" />
      <source>No caller ID</source>
      <translation>شماره نامشخص</translation>
    </message>
    <message>
      <location filename="../../ui/calllogview.py" line="347" />
      <source>Number</source>
      <translation>شماره</translation>
    </message>
    <message>
      <location filename="../../ui/calllogview.py" line="351" />
      <source>Result</source>
      <translation>نتیجه</translation>
    </message>
    <message>
      <location filename="../../ui/calllogview.py" line="345" />
      <source>Time</source>
      <translation>زمان</translation>
    </message>
    <message>
      <location filename="../../ui/calllogview.py" line="393" />
      <source>Transferred to {number}</source>
      <translation>منتقل‌شده به {number}</translation>
    </message>
    <message>
      <location filename="../../ui/calllogview.py" line="377" />
      <source>Unknown caller</source>
      <translation>تماس‌گیرنده ناشناس</translation>
    </message>
  </context>
  <context>
    <name>CallPanel</name>
    <message>
      <location filename="../../ui/callpanel.py" line="376" />
      <source>Already in a conference.</source>
      <translation>هم‌اکنون در کنفرانس است.</translation>
    </message>
    <message>
      <location filename="../../ui/callpanel.py" line="499" />
      <source>Answer</source>
      <translation>پاسخ</translation>
    </message>
    <message>
      <location filename="../../ui/callpanel.py" line="564" />
      <source>Call in progress</source>
      <translation>تماس جاری</translation>
    </message>
    <message>
      <location filename="../../ui/callpanel.py" line="556" />
      <source>Conference</source>
      <translation>کنفرانس</translation>
    </message>
    <message>
      <location filename="../../ui/callpanel.py" line="367" />
      <source>Connect {held} with {consulted} and leave the call.</source>
      <translation>{held} را به {consulted} وصل کنید و از تماس خارج شوید.</translation>
    </message>
    <message>
      <location filename="../../ui/callpanel.py" line="362" />
      <source>Consult someone first (Consult…); both calls must be connected.</source>
      <translation>ابتدا با کسی مشورت کنید (مشورت…)؛ هر دو تماس باید برقرار باشند.</translation>
    </message>
    <message>
      <location filename="../../ui/callpanel.py" line="350" />
      <source>Consult works on a connected call that is not already in a consultation.</source>
      <translation>مشورت فقط روی تماس برقرارشده‌ای کار می‌کند که در حال مشورت نباشد.</translation>
    </message>
    <message>
      <location filename="../../ui/callpanel.py" line="410" />
      <source>Consultation</source>
      <translation>مشورت</translation>
    </message>
    <message>
      <location filename="../../ui/callpanel.py" line="550" />
      <source>Consult…</source>
      <translation>مشورت…</translation>
    </message>
    <message>
      <location filename="../../ui/callpanel.py" line="548" />
      <source>Hang up</source>
      <translation>قطع تماس</translation>
    </message>
    <message>
      <location filename="../../ui/callpanel.py" line="549" />
      <source>Hang up the call</source>
      <translation>قطع کردن تماس</translation>
    </message>
    <message>
      <location filename="../../ui/callpanel.py" line="406" />
      <source>Held by the other party</source>
      <translation>نگه‌داشته‌شده از سوی طرف مقابل</translation>
    </message>
    <message>
      <location filename="../../ui/callpanel.py" line="422" />
      <source>Hold</source>
      <translation>نگه‌داشتن</translation>
    </message>
    <message>
      <location filename="../../ui/callpanel.py" line="560" />
      <source>Hold or resume the call</source>
      <translation>نگه‌داشتن یا ازسرگیری تماس</translation>
    </message>
    <message>
      <location filename="../../ui/callpanel.py" line="551" />
      <source>Hold the call and consult someone</source>
      <translation>نگه‌داشتن تماس و مشورت با دیگری</translation>
    </message>
    <message>
      <location filename="../../ui/callpanel.py" line="353" />
      <source>Hold this call and call the number typed in the transfer field.</source>
      <translation>این تماس را نگه دارید و با شماره نوشته‌شده در کادر انتقال تماس بگیرید.</translation>
    </message>
    <message>
      <location filename="../../ui/callpanel.py" line="558" />
      <source>Join the held call and the consulted party in a conference</source>
      <translation>پیوستن تماس نگه‌داشته‌شده و طرف مشورت در یک کنفرانس</translation>
    </message>
    <message>
      <location filename="../../ui/callpanel.py" line="544" />
      <source>Keypad</source>
      <translation>صفحه‌کلید</translation>
    </message>
    <message>
      <location filename="../../ui/callpanel.py" line="363" />
      <source>Leave the conference: {held} and {consulted} go on talking without you.</source>
      <translation>ترک کنفرانس: {held} و {consulted} بدون شما به گفتگو ادامه می‌دهند.</translation>
    </message>
    <message>
      <location filename="../../ui/callpanel.py" line="412" />
      <source>Line: {line}</source>
      <translation>خط: {line}</translation>
    </message>
    <message>
      <location filename="../../ui/callpanel.py" line="428" />
      <source>Mute</source>
      <translation>بی‌صدا</translation>
    </message>
    <message>
      <location filename="../../ui/callpanel.py" line="561" />
      <source>Mute the microphone</source>
      <translation>بی‌صدا کردن میکروفون</translation>
    </message>
    <message>
      <location filename="../../ui/callpanel.py" line="546" />
      <source>Number to transfer to or consult</source>
      <translation>شماره برای انتقال یا مشورت</translation>
    </message>
    <message>
      <location filename="../../ui/callpanel.py" line="510" />
      <source>Other calls ({count})</source>
      <translation>تماس‌های دیگر ({count})</translation>
    </message>
    <message>
      <location filename="../../ui/callpanel.py" line="422" />
      <source>Resume</source>
      <translation>ازسرگیری</translation>
    </message>
    <message>
      <location filename="../../ui/callpanel.py" line="483" />
      <source>Send {name} to voicemail</source>
      <translation>فرستادن {name} به پست صوتی</translation>
    </message>
    <message>
      <location filename="../../ui/callpanel.py" line="562" />
      <source>Show the keypad</source>
      <translation>نمایش صفحه‌کلید</translation>
    </message>
    <message>
      <location filename="../../ui/callpanel.py" line="379" />
      <source>Talk with {held} and {consulted} together.</source>
      <translation>با {held} و {consulted} هم‌زمان گفتگو کنید.</translation>
    </message>
    <message>
      <location filename="../../ui/callpanel.py" line="349" />
      <source>This phone connection cannot hold a call to consult someone first.</source>
      <translation>این اتصال تلفن نمی‌تواند تماسی را برای مشورت با دیگری نگه دارد.</translation>
    </message>
    <message>
      <location filename="../../ui/callpanel.py" line="375" />
      <source>This phone connection cannot join calls in a conference.</source>
      <translation>این اتصال تلفن نمی‌تواند تماس‌ها را در یک کنفرانس به هم بپیوندد.</translation>
    </message>
    <message>
      <location filename="../../ui/callpanel.py" line="359" />
      <source>This phone connection cannot transfer a call to the party you consulted.</source>
      <translation>این اتصال تلفن نمی‌تواند تماس را به طرفی که با او مشورت کرده‌اید منتقل کند.</translation>
    </message>
    <message>
      <location filename="../../ui/callpanel.py" line="547" />
      <source>Transfer</source>
      <translation>انتقال</translation>
    </message>
    <message>
      <location filename="../../ui/callpanel.py" line="554" />
      <source>Transfer the held call to the consulted party</source>
      <translation>انتقال تماس نگه‌داشته‌شده به طرف مشورت</translation>
    </message>
    <message>
      <location filename="../../ui/callpanel.py" line="552" />
      <source>Transfer to consulted</source>
      <translation>انتقال به طرف مشورت</translation>
    </message>
    <message>
      <location filename="../../ui/callpanel.py" line="545" />
      <source>Transfer to or consult…</source>
      <translation>انتقال یا مشورت با…</translation>
    </message>
    <message>
      <location filename="../../ui/callpanel.py" line="305" />
      <source>Type the number to consult in the transfer field, then press Consult again.</source>
      <translation>شماره‌ای را که می‌خواهید با آن مشورت کنید در کادر انتقال بنویسید و دوباره «مشورت» را بزنید.</translation>
    </message>
    <message>
      <location filename="../../ui/callpanel.py" line="395" />
      <source>Unknown caller</source>
      <translation>تماس‌گیرنده ناشناس</translation>
    </message>
    <message>
      <location filename="../../ui/callpanel.py" line="428" />
      <source>Unmute</source>
      <translation>صدادار کردن</translation>
    </message>
    <message>
      <location filename="../../ui/callpanel.py" line="481" />
      <source>Voicemail</source>
      <translation>پست صوتی</translation>
    </message>
    <message>
      <location filename="../../ui/callpanel.py" line="487" />
      <source>Waiting {time}</source>
      <translation>در انتظار {time}</translation>
    </message>
  </context>
  <context>
    <name>Contacts</name>
    <message>
      <location filename="../../ui/contacts.py" line="307" />
      <source>&amp;Add a number</source>
      <translation>&amp;افزودن شماره</translation>
    </message>
    <message>
      <location filename="../../ui/contacts.py" line="929" />
      <source>&amp;Add…</source>
      <translation>&amp;افزودن…</translation>
    </message>
    <message>
      <location filename="../../ui/contacts.py" line="928" />
      <source>&amp;Call</source>
      <translation>تما&amp;س</translation>
    </message>
    <message>
      <location filename="../../ui/contacts.py" line="296" />
      <source>&amp;Company:</source>
      <translation>&amp;شرکت:</translation>
    </message>
    <message>
      <location filename="../../ui/contacts.py" line="931" />
      <source>&amp;Delete</source>
      <translation>&amp;حذف</translation>
    </message>
    <message>
      <location filename="../../ui/contacts.py" line="298" />
      <source>&amp;E-mail:</source>
      <translation>&amp;رایانامه:</translation>
    </message>
    <message>
      <location filename="../../ui/contacts.py" line="930" />
      <source>&amp;Edit…</source>
      <translation>&amp;ویرایش…</translation>
    </message>
    <message>
      <location filename="../../ui/contacts.py" line="932" />
      <source>&amp;Import…</source>
      <translation>&amp;درون‌ریزی…</translation>
    </message>
    <message>
      <location filename="../../ui/contacts.py" line="295" />
      <source>&amp;Name:</source>
      <translation>&amp;نام:</translation>
    </message>
    <message>
      <location filename="../../ui/contacts.py" line="934" />
      <source>&amp;Open in Dynamics</source>
      <translation>&amp;باز کردن در Dynamics</translation>
    </message>
    <message>
      <location filename="../../ui/contacts.py" line="297" />
      <source>&amp;Type:</source>
      <translation>نو&amp;ع:</translation>
    </message>
    <message>
      <location filename="../../ui/contacts.py" line="475" />
      <source>Cancelled: nothing of the file was imported.</source>
      <translation>لغو شد: چیزی از این پرونده درون‌ریزی نشد.</translation>
    </message>
    <message>
      <location filename="../../ui/contacts.py" line="494" />
      <source>Cancelling…</source>
      <translation>در حال لغو…</translation>
    </message>
    <message>
      <location filename="../../ui/contacts.py" line="246" />
      <source>Company</source>
      <translation>شرکت</translation>
    </message>
    <message>
      <location filename="../../ui/contacts.py" line="927" />
      <source>Contacts</source>
      <translation>مخاطبان</translation>
    </message>
    <message>
      <location filename="../../ui/contacts.py" line="910" />
      <source>Contacts (*.csv *.vcf *.vcard *.txt);;All files (*)</source>
      <translation>مخاطبان (*.csv *.vcf *.vcard *.txt);;همه پرونده‌ها (*)</translation>
    </message>
    <message>
      <location filename="../../ui/contacts.py" line="838" />
      <source>Delete</source>
      <translation>حذف</translation>
    </message>
    <message>
      <location filename="../../ui/contacts.py" line="892" />
      <source>Delete contact</source>
      <translation>حذف مخاطب</translation>
    </message>
    <message>
      <location filename="../../ui/contacts.py" line="893" />
      <source>Delete {name} from the directory?</source>
      <translation>{name} از فهرست مخاطبان حذف شود؟</translation>
    </message>
    <message>
      <location filename="../../ui/contacts.py" line="902" />
      <source>Deleted {name}.</source>
      <translation>{name} حذف شد.</translation>
    </message>
    <message>
      <location filename="../../ui/contacts.py" line="283" />
      <source>Edit contact</source>
      <translation>ویرایش مخاطب</translation>
    </message>
    <message>
      <location filename="../../ui/contacts.py" line="835" />
      <source>Edit…</source>
      <translation>ویرایش…</translation>
    </message>
    <message>
      <location filename="../../ui/contacts.py" line="933" />
      <source>Import a CSV or vCard file into the directory</source>
      <translation>درون‌ریزی یک پرونده CSV یا vCard به فهرست مخاطبان</translation>
    </message>
    <message>
      <location filename="../../ui/contacts.py" line="398" />
      <source>Import contacts</source>
      <translation>درون‌ریزی مخاطبان</translation>
    </message>
    <message>
      <location filename="../../ui/contacts.py" line="518" />
      <source>Imported {file}.</source>
      <translation>{file} درون‌ریزی شد.</translation>
    </message>
    <message>
      <location filename="../../ui/contacts.py" line="428" />
      <source>Importing {file}…</source>
      <translation>در حال درون‌ریزی {file}…</translation>
    </message>
    <message>
      <location filename="../../ui/contacts.py" line="245" />
      <source>Name</source>
      <translation>نام</translation>
    </message>
    <message>
      <location filename="../../ui/contacts.py" line="283" />
      <source>New contact</source>
      <translation>مخاطب جدید</translation>
    </message>
    <message>
      <location filename="../../ui/contacts.py" line="758" />
      <source>No record matches “{text}”.</source>
      <translation>هیچ رکوردی با «{text}» جور نیست.</translation>
    </message>
    <message>
      <location filename="../../ui/contacts.py" line="369" />
      <source>Not saved: {why}.</source>
      <translation>ذخیره نشد: {why}.</translation>
    </message>
    <message>
      <location filename="../../ui/contacts.py" line="332" />
      <source>Number type</source>
      <translation>نوع شماره</translation>
    </message>
    <message>
      <location filename="../../ui/contacts.py" line="248" />
      <source>Numbers</source>
      <translation>شماره‌ها</translation>
    </message>
    <message>
      <location filename="../../ui/contacts.py" line="301" />
      <source>Numbers:</source>
      <translation>شماره‌ها:</translation>
    </message>
    <message>
      <location filename="../../ui/contacts.py" line="843" />
      <source>Open in Dynamics</source>
      <translation>باز کردن در Dynamics</translation>
    </message>
    <message>
      <location filename="../../ui/contacts.py" line="336" />
      <source>Phone number</source>
      <translation>شماره تلفن</translation>
    </message>
    <message>
      <location filename="../../ui/contacts.py" line="883" />
      <source>Saved {name}.</source>
      <translation>{name} ذخیره شد.</translation>
    </message>
    <message>
      <location filename="../../ui/contacts.py" line="925" />
      <source>Search by name, company or number</source>
      <translation>جستجو با نام، شرکت یا شماره</translation>
    </message>
    <message>
      <location filename="../../ui/contacts.py" line="926" />
      <source>Search the contacts</source>
      <translation>جستجو در مخاطبان</translation>
    </message>
    <message>
      <location filename="../../ui/contacts.py" line="720" />
      <source>Searching…</source>
      <translation>در حال جستجو…</translation>
    </message>
    <message>
      <location filename="../../ui/contacts.py" line="533" />
      <source>Skipped rows and why:</source>
      <translation>ردیف‌های کنارگذاشته و دلیل آن‌ها:</translation>
    </message>
    <message>
      <location filename="../../ui/contacts.py" line="732" />
      <source>The directory could not be searched: {why}</source>
      <translation>جستجو در فهرست مخاطبان ممکن نشد: {why}</translation>
    </message>
    <message>
      <location filename="../../ui/contacts.py" line="478" />
      <source>The file could not be imported: {why}</source>
      <translation>این پرونده درون‌ریزی نشد: {why}</translation>
    </message>
    <message>
      <location filename="../../ui/contacts.py" line="445" />
      <source>There is no database to import into.</source>
      <translation>پایگاه داده‌ای برای درون‌ریزی نیست.</translation>
    </message>
    <message>
      <location filename="../../ui/contacts.py" line="746" />
      <source>There is no directory: the CRM is not available.</source>
      <translation>فهرست مخاطبان در دسترس نیست: CRM در دسترس نیست.</translation>
    </message>
    <message>
      <location filename="../../ui/contacts.py" line="247" />
      <source>Type</source>
      <translation>نوع</translation>
    </message>
    <message>
      <location filename="../../ui/contacts.py" line="748" />
      <source>Type a name or a number to search Dynamics 365.</source>
      <translation>برای جستجو در Dynamics 365 یک نام یا شماره بنویسید.</translation>
    </message>
    <message>
      <location filename="../../ui/contacts.py" line="762" />
      <source>{count} record(s) found</source>
      <translation>{count} رکورد پیدا شد</translation>
    </message>
    <message>
      <location filename="../../ui/contacts.py" line="503" />
      <source>{done} of about {total} rows</source>
      <translation>{done} از حدود {total} ردیف</translation>
    </message>
    <message>
      <location filename="../../ui/contacts.py" line="521" />
      <source>{imported} new record(s), {updated} updated, {numbers} phone number(s) stored, {skipped} row(s) skipped.</source>
      <translation>{imported} رکورد جدید، {updated} به‌روزشده، {numbers} شماره تلفن ذخیره شد، {skipped} ردیف کنار گذاشته شد.</translation>
    </message>
    <message>
      <location filename="../../ui/contacts.py" line="754" />
      <source>{shown} of {total} records</source>
      <translation>{shown} از {total} رکورد</translation>
    </message>
  </context>
  <context>
    <name>ConvertDialog</name>
    <message>
      <location filename="../../ui/convert.py" line="167" />
      <source> · </source>
      <translation>، </translation>
    </message>
    <message>
      <location filename="../../ui/convert.py" line="485" />
      <source>&amp;Add the number</source>
      <translation>&amp;افزودن شماره</translation>
    </message>
    <message>
      <location filename="../../ui/convert.py" line="440" />
      <source>&amp;Create:</source>
      <translation>سا&amp;ختن:</translation>
    </message>
    <message>
      <location filename="../../ui/convert.py" line="464" />
      <source>&amp;Description</source>
      <translation>شر&amp;ح</translation>
    </message>
    <message>
      <location filename="../../ui/convert.py" line="457" />
      <source>&amp;E-mail</source>
      <translation>&amp;رایانامه</translation>
    </message>
    <message>
      <location filename="../../ui/convert.py" line="450" />
      <source>&amp;Name</source>
      <translation>&amp;نام</translation>
    </message>
    <message>
      <location filename="../../ui/convert.py" line="448" />
      <source>&amp;Name {required}</source>
      <translation>&amp;نام {required}</translation>
    </message>
    <message>
      <location filename="../../ui/convert.py" line="445" />
      <source>&amp;Record {required}</source>
      <translation>&amp;رکورد {required}</translation>
    </message>
    <message>
      <location filename="../../ui/convert.py" line="461" />
      <source>&amp;Subject {required}</source>
      <translation>&amp;موضوع {required}</translation>
    </message>
    <message>
      <location filename="../../ui/convert.py" line="459" />
      <source>&amp;Title {required}</source>
      <translation>&amp;عنوان {required}</translation>
    </message>
    <message>
      <location filename="../../ui/convert.py" line="463" />
      <source>&amp;When {required}</source>
      <translation>&amp;زمان {required}</translation>
    </message>
    <message>
      <location filename="../../ui/convert.py" line="689" />
      <source>, </source>
      <translation>، </translation>
    </message>
    <message>
      <location filename="../../ui/convert.py" line="121" />
      <source>A case needs a customer: choose a contact or an account.</source>
      <translation>پرونده به یک مشتری نیاز دارد: یک مخاطب یا حساب انتخاب کنید.</translation>
    </message>
    <message>
      <location filename="../../ui/convert.py" line="86" />
      <source>Add the number to an existing record</source>
      <translation>افزودن شماره به یک رکورد موجود</translation>
    </message>
    <message>
      <location filename="../../ui/convert.py" line="455" />
      <source>C&amp;ompany</source>
      <translation>&amp;شرکت</translation>
    </message>
    <message>
      <location filename="../../ui/convert.py" line="453" />
      <source>C&amp;ompany {required}</source>
      <translation>&amp;شرکت {required}</translation>
    </message>
    <message>
      <location filename="../../ui/convert.py" line="487" />
      <source>C&amp;reate</source>
      <translation>&amp;ساختن</translation>
    </message>
    <message>
      <location filename="../../ui/convert.py" line="443" />
      <source>C&amp;ustomer {required}</source>
      <translation>&amp;مشتری {required}</translation>
    </message>
    <message>
      <location filename="../../ui/convert.py" line="496" />
      <source>Call back {who}</source>
      <translation>تماس دوباره با {who}</translation>
    </message>
    <message>
      <location filename="../../ui/convert.py" line="378" />
      <source>Call from an unknown number</source>
      <translation>تماس از شمارهٔ ناشناس</translation>
    </message>
    <message>
      <location filename="../../ui/convert.py" line="497" />
      <source>Call from {who}</source>
      <translation>تماس از {who}</translation>
    </message>
    <message>
      <location filename="../../ui/convert.py" line="376" />
      <source>Call with {who}</source>
      <translation>تماس با {who}</translation>
    </message>
    <message>
      <location filename="../../ui/convert.py" line="892" />
      <source>Choose a call in the log first.</source>
      <translation>ابتدا یک تماس را در فهرست تماس‌ها انتخاب کنید.</translation>
    </message>
    <message>
      <location filename="../../ui/convert.py" line="120" />
      <source>Choose the record to add the number to.</source>
      <translation>رکوردی را که شماره به آن افزوده شود انتخاب کنید.</translation>
    </message>
    <message>
      <location filename="../../ui/convert.py" line="193" />
      <source>Choose…</source>
      <translation>انتخاب کنید…</translation>
    </message>
    <message>
      <location filename="../../ui/convert.py" line="389" />
      <source>Company</source>
      <translation>شرکت</translation>
    </message>
    <message>
      <location filename="../../ui/convert.py" line="944" />
      <source>Con&amp;vert call…</source>
      <translation>&amp;تبدیل تماس…</translation>
    </message>
    <message>
      <location filename="../../ui/convert.py" line="370" />
      <source>Convert the call</source>
      <translation>تبدیل تماس</translation>
    </message>
    <message>
      <location filename="../../ui/convert.py" line="393" />
      <source>Create the record</source>
      <translation>ساختن رکورد</translation>
    </message>
    <message>
      <location filename="../../ui/convert.py" line="392" />
      <source>Description</source>
      <translation>شرح</translation>
    </message>
    <message>
      <location filename="../../ui/convert.py" line="390" />
      <source>E-mail</source>
      <translation>رایانامه</translation>
    </message>
    <message>
      <location filename="../../ui/convert.py" line="658" />
      <source>Fill in the fields marked with *.</source>
      <translation>فیلدهای ستاره‌دار (*) را پر کنید.</translation>
    </message>
    <message>
      <location filename="../../ui/convert.py" line="700" />
      <source>Fill it in in the CRM instead</source>
      <translation>به جای آن در CRM تکمیلش کنید</translation>
    </message>
    <message>
      <location filename="../../ui/convert.py" line="203" />
      <source>Filled in in Dynamics 365</source>
      <translation>در Dynamics 365 پر می‌شود</translation>
    </message>
    <message>
      <location filename="../../ui/convert.py" line="85" />
      <source>Follow-up phone call</source>
      <translation>تماس تلفنی پیگیری</translation>
    </message>
    <message>
      <location filename="../../ui/convert.py" line="957" />
      <source>Make a case, lead, contact or account from the selected call</source>
      <translation>ساختن پرونده، سرنخ، مخاطب یا حساب از تماس انتخاب‌شده</translation>
    </message>
    <message>
      <location filename="../../ui/convert.py" line="388" />
      <source>Name</source>
      <translation>نام</translation>
    </message>
    <message>
      <location filename="../../ui/convert.py" line="84" />
      <source>New account (company)</source>
      <translation>حساب جدید (شرکت)</translation>
    </message>
    <message>
      <location filename="../../ui/convert.py" line="81" />
      <source>New case</source>
      <translation>پروندهٔ جدید</translation>
    </message>
    <message>
      <location filename="../../ui/convert.py" line="83" />
      <source>New contact</source>
      <translation>مخاطب جدید</translation>
    </message>
    <message>
      <location filename="../../ui/convert.py" line="82" />
      <source>New lead</source>
      <translation>سرنخ جدید</translation>
    </message>
    <message>
      <location filename="../../ui/convert.py" line="384" />
      <source>No number</source>
      <translation>بدون شماره</translation>
    </message>
    <message>
      <location filename="../../ui/convert.py" line="441" />
      <source>Number:</source>
      <translation>شماره:</translation>
    </message>
    <message>
      <location filename="../../ui/convert.py" line="780" />
      <source>Open it in the CRM</source>
      <translation>باز کردن در CRM</translation>
    </message>
    <message>
      <location filename="../../ui/convert.py" line="387" />
      <source>Records found</source>
      <translation>رکوردهای پیدا‌شده</translation>
    </message>
    <message>
      <location filename="../../ui/convert.py" line="385" />
      <source>Search by name, company or number</source>
      <translation>جستجو با نام، شرکت یا شماره</translation>
    </message>
    <message>
      <location filename="../../ui/convert.py" line="386" />
      <source>Search the CRM</source>
      <translation>جستجو در CRM</translation>
    </message>
    <message>
      <location filename="../../ui/convert.py" line="132" />
      <source>Signing in to the CRM failed: {why}</source>
      <translation>ورود به CRM ناموفق بود: {why}</translation>
    </message>
    <message>
      <location filename="../../ui/convert.py" line="896" />
      <source>That call is not in the log any more.</source>
      <translation>این تماس دیگر در فهرست تماس‌ها نیست.</translation>
    </message>
    <message>
      <location filename="../../ui/convert.py" line="122" />
      <source>That record no longer exists.</source>
      <translation>این رکورد دیگر وجود ندارد.</translation>
    </message>
    <message>
      <location filename="../../ui/convert.py" line="139" />
      <source>The CRM cannot be reached now; nothing was created. {why}</source>
      <translation>اکنون به CRM دسترسی نیست؛ چیزی ساخته نشد. {why}</translation>
    </message>
    <message>
      <location filename="../../ui/convert.py" line="134" />
      <source>The CRM is busy (too many requests); nothing was created. Try again in {seconds} seconds.</source>
      <translation>CRM اکنون سرش شلوغ است (درخواست‌های بیش از حد)؛ چیزی ساخته نشد. {seconds} ثانیهٔ دیگر دوباره امتحان کنید.</translation>
    </message>
    <message>
      <location filename="../../ui/convert.py" line="130" />
      <source>The CRM refused: {why}</source>
      <translation>CRM نپذیرفت: {why}</translation>
    </message>
    <message>
      <location filename="../../ui/convert.py" line="691" />
      <source>The CRM requires {fields} as well.</source>
      <translation>CRM به {fields} هم نیاز دارد.</translation>
    </message>
    <message>
      <location filename="../../ui/convert.py" line="95" />
      <source>The account was created.</source>
      <translation>حساب ساخته شد.</translation>
    </message>
    <message>
      <location filename="../../ui/convert.py" line="123" />
      <source>The built-in directory cannot do that.</source>
      <translation>دفترچهٔ داخلی این کار را نمی‌تواند انجام دهد.</translation>
    </message>
    <message>
      <location filename="../../ui/convert.py" line="109" />
      <source>The call could not be linked to it; link it in the CRM.</source>
      <translation>تماس به آن پیوند نخورد؛ پیوند را در CRM برقرار کنید.</translation>
    </message>
    <message>
      <location filename="../../ui/convert.py" line="656" />
      <source>The call has no number to put into a record.</source>
      <translation>این تماس شماره‌ای برای ثبت در رکورد ندارد.</translation>
    </message>
    <message>
      <location filename="../../ui/convert.py" line="107" />
      <source>The call is now linked to it.</source>
      <translation>تماس اکنون به آن پیوند خورده است.</translation>
    </message>
    <message>
      <location filename="../../ui/convert.py" line="92" />
      <source>The case was created.</source>
      <translation>پرونده ساخته شد.</translation>
    </message>
    <message>
      <location filename="../../ui/convert.py" line="94" />
      <source>The contact was created.</source>
      <translation>مخاطب ساخته شد.</translation>
    </message>
    <message>
      <location filename="../../ui/convert.py" line="96" />
      <source>The follow-up call was scheduled.</source>
      <translation>تماس پیگیری زمان‌بندی شد.</translation>
    </message>
    <message>
      <location filename="../../ui/convert.py" line="93" />
      <source>The lead was created.</source>
      <translation>سرنخ ساخته شد.</translation>
    </message>
    <message>
      <location filename="../../ui/convert.py" line="97" />
      <source>The number was added to {name}.</source>
      <translation>شماره به {name} افزوده شد.</translation>
    </message>
    <message>
      <location filename="../../ui/convert.py" line="886" />
      <source>There is no CRM to convert the call into.</source>
      <translation>CRM‌ای برای تبدیل تماس وجود ندارد.</translation>
    </message>
    <message>
      <location filename="../../ui/convert.py" line="383" />
      <source>What to create</source>
      <translation>چه چیزی ساخته شود</translation>
    </message>
    <message>
      <location filename="../../ui/convert.py" line="391" />
      <source>When to call back</source>
      <translation>زمان تماس دوباره</translation>
    </message>
    <message>
      <location filename="../../ui/convert.py" line="705" />
      <source>Which fields the CRM requires could not be read now (it is offline or busy). Create asks again first, then tries with the fields above.</source>
      <translation>اکنون نمی‌توان خواند که CRM کدام فیلدها را لازم دارد (در دسترس نیست یا سرش شلوغ است). «ساختن» نخست دوباره می‌پرسد و سپس با فیلدهای بالا امتحان می‌کند.</translation>
    </message>
    <message>
      <location filename="../../ui/convert.py" line="748" />
      <source>Working…</source>
      <translation>در حال انجام…</translation>
    </message>
    <message>
      <location filename="../../ui/convert.py" line="696" />
      <source>{fields} can only be filled in in Dynamics 365.</source>
      <translation>{fields} را فقط در Dynamics 365 می‌توان پر کرد.</translation>
    </message>
    <message>
      <location filename="../../ui/convert.py" line="116" />
      <source>{fields} must be filled in.</source>
      <translation>{fields} باید پر شود.</translation>
    </message>
    <message>
      <location filename="../../ui/convert.py" line="686" />
      <source>{fields} takes a number.</source>
      <translation>{fields} باید یک عدد باشد.</translation>
    </message>
    <message>
      <location filename="../../ui/convert.py" line="684" />
      <source>{fields} takes a whole number.</source>
      <translation>{fields} باید یک عدد صحیح باشد.</translation>
    </message>
    <message>
      <location filename="../../ui/convert.py" line="103" />
      <source>{name} already has this number.</source>
      <translation>{name} این شماره را از قبل دارد.</translation>
    </message>
    <message>
      <location filename="../../ui/convert.py" line="162" />
      <source>“{name}”</source>
      <translation>«{name}»</translation>
    </message>
  </context>
  <context>
    <name>Details</name>
    <message>
      <location filename="../../ui/details.py" line="49" />
      <source>Call</source>
      <translation>تماس</translation>
    </message>
    <message>
      <location filename="../../ui/details.py" line="50" />
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
      <location filename="../../ui/details.py" line="58" />
      <source>No numbers</source>
      <translation>بدون شماره</translation>
    </message>
    <message>
      <location filename="../../ui/details.py" line="56" />
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
    <name>DialPad</name>
    <message>
      <location filename="../../ui/dialpad.py" line="127" />
      <source>Call</source>
      <translation>تماس</translation>
    </message>
    <message>
      <location filename="../../ui/dialpad.py" line="128" />
      <source>Call the number</source>
      <translation>تماس با این شماره</translation>
    </message>
    <message>
      <location filename="../../ui/dialpad.py" line="129" />
      <source>Delete the last digit</source>
      <translation>پاک کردن آخرین رقم</translation>
    </message>
    <message>
      <location filename="../../ui/dialpad.py" line="130" />
      <source>Dial pad</source>
      <translation>صفحه شماره‌گیری</translation>
    </message>
    <message>
      <location filename="../../ui/dialpad.py" line="104" />
      <source>Keys send tones to the call.</source>
      <translation>کلیدها بوق (DTMF) به تماس می‌فرستند.</translation>
    </message>
    <message>
      <location filename="../../ui/dialpad.py" line="106" />
      <source>Keys type into the number field.</source>
      <translation>کلیدها در خانه شماره می‌نویسند.</translation>
    </message>
  </context>
  <context>
    <name>FirstStart</name>
    <message>
      <location filename="../../ui/firststart.py" line="186" />
      <source>Add a SIP line: opens Settings on the phone lines</source>
      <translation>افزودن خط SIP: تنظیمات را روی خطوط تلفن باز می‌کند</translation>
    </message>
    <message>
      <location filename="../../ui/firststart.py" line="184" />
      <source>Add a line</source>
      <translation>افزودن خط</translation>
    </message>
    <message>
      <location filename="../../ui/firststart.py" line="188" />
      <source>Connect to Asterisk or a callsys server</source>
      <translation>اتصال به Asterisk یا سرور callsys</translation>
    </message>
    <message>
      <location filename="../../ui/firststart.py" line="192" />
      <source>First start</source>
      <translation>اولین اجرا</translation>
    </message>
    <message>
      <location filename="../../ui/firststart.py" line="190" />
      <source>Hide the welcome panel</source>
      <translation>پنهان کردن پنل خوش‌آمد</translation>
    </message>
    <message>
      <location filename="../../ui/firststart.py" line="174" />
      <source>No phone line is set up yet, and the phone cannot take calls.</source>
      <translation>هنوز هیچ خط تلفنی تنظیم نشده است و تلفن نمی‌تواند تماس بپذیرد.</translation>
    </message>
    <message>
      <location filename="../../ui/firststart.py" line="168" />
      <source>No phone line is set up yet. The built-in phone takes direct SIP calls at {address} from the network, without a password.</source>
      <translation>هنوز هیچ خط تلفنی تنظیم نشده است. تلفن داخلی برنامه تماس‌های مستقیم SIP را روی {address} از شبکه و بدون گذرواژه می‌پذیرد.</translation>
    </message>
    <message>
      <location filename="../../ui/firststart.py" line="159" />
      <source>No phone line is set up yet. The built-in phone takes direct SIP calls at {address} — from this computer only (to take them from the network: {setting} in the phone options, Settings → Phone &amp; lines).</source>
      <translation>هنوز هیچ خط تلفنی تنظیم نشده است. تلفن داخلی برنامه تماس‌های مستقیم SIP را روی {address} می‌پذیرد — فقط از همین رایانه (برای پذیرفتن از شبکه: {setting} در گزینه‌های تلفن، تنظیمات ← تلفن و خطوط).</translation>
    </message>
    <message>
      <location filename="../../ui/firststart.py" line="179" />
      <source>Now: {provider}</source>
      <translation>اکنون: {provider}</translation>
    </message>
    <message>
      <location filename="../../ui/firststart.py" line="154" />
      <source>The simulator is running: it rings with made-up callers; no real phone is connected.</source>
      <translation>شبیه‌ساز در حال اجراست: با تماس‌گیرندگان ساختگی زنگ می‌زند؛ هیچ تلفن واقعی وصل نیست.</translation>
    </message>
    <message>
      <location filename="../../ui/firststart.py" line="189" />
      <source>Try the simulator</source>
      <translation>امتحان شبیه‌ساز</translation>
    </message>
    <message>
      <location filename="../../ui/firststart.py" line="183" />
      <source>Welcome to callsys</source>
      <translation>به callsys خوش آمدید</translation>
    </message>
  </context>
  <context>
    <name>GlobalHotkeys</name>
    <message>
      <location filename="../../ui/globalhotkeys.py" line="318" />
      <source>Another program already uses “{key}” as a global key, so “{action}” works only while callsys has the focus. Choose another key in the settings.</source>
      <translation>برنامهٔ دیگری «{key}» را از پیش به‌عنوان کلید سراسری گرفته است، پس «{action}» فقط وقتی کار می‌کند که callsys در کانون توجه باشد. در تنظیمات کلید دیگری انتخاب کنید.</translation>
    </message>
    <message>
      <location filename="../../ui/globalhotkeys.py" line="118" />
      <source>Global hotkeys are not available in a Wayland session: Wayland does not let a program see keys typed into other programs. The shortcuts work while callsys has the focus.</source>
      <translation>کلیدهای میانبر سراسری در نشست Wayland در دسترس نیستند: Wayland اجازه نمی‌دهد برنامه‌ای کلیدهایی را که در برنامه‌های دیگر زده می‌شوند ببیند. میانبرها وقتی کار می‌کنند که callsys در کانون توجه باشد.</translation>
    </message>
    <message>
      <location filename="../../ui/globalhotkeys.py" line="104" />
      <source>Global hotkeys are not available on Windows yet; the shortcuts work while callsys has the focus.</source>
      <translation>کلیدهای میانبر سراسری هنوز در ویندوز در دسترس نیستند؛ میانبرها وقتی کار می‌کنند که callsys در کانون توجه باشد.</translation>
    </message>
    <message>
      <location filename="../../ui/globalhotkeys.py" line="109" />
      <source>Global hotkeys are not available on macOS yet; the shortcuts work while callsys has the focus.</source>
      <translation>کلیدهای میانبر سراسری هنوز در macOS در دسترس نیستند؛ میانبرها وقتی کار می‌کنند که callsys در کانون توجه باشد.</translation>
    </message>
    <message>
      <location filename="../../ui/globalhotkeys.py" line="211" />
      <source>Global hotkeys are off: the X display {display} cannot be opened ({why}).</source>
      <translation>کلیدهای میانبر سراسری خاموش‌اند: نمایشگر X با نام {display} باز نمی‌شود ({why}).</translation>
    </message>
    <message>
      <location filename="../../ui/globalhotkeys.py" line="128" />
      <source>Global hotkeys need Qt's X11 platform; callsys runs on “{platform}”.</source>
      <translation>کلیدهای میانبر سراسری به سکوی X11 در Qt نیاز دارند؛ callsys روی «{platform}» اجرا می‌شود.</translation>
    </message>
    <message>
      <location filename="../../ui/globalhotkeys.py" line="124" />
      <source>Global hotkeys need an X11 desktop; there is none here (DISPLAY is not set).</source>
      <translation>کلیدهای میانبر سراسری به میزکار X11 نیاز دارند؛ اینجا چنین میزکاری نیست (DISPLAY تنظیم نشده است).</translation>
    </message>
    <message>
      <location filename="../../ui/globalhotkeys.py" line="134" />
      <source>Global hotkeys need the python-xlib package, which is not installed.</source>
      <translation>کلیدهای میانبر سراسری به بستهٔ python-xlib نیاز دارند که نصب نشده است.</translation>
    </message>
    <message>
      <location filename="../../ui/globalhotkeys.py" line="297" />
      <source>“{key}” for “{action}” cannot be a global hotkey on this keyboard.</source>
      <translation>«{key}» برای «{action}» روی این صفحه‌کلید نمی‌تواند کلید سراسری باشد.</translation>
    </message>
    <message>
      <location filename="../../ui/globalhotkeys.py" line="323" />
      <source>“{key}” for “{action}” could not be made global ({why}).</source>
      <translation>«{key}» برای «{action}» سراسری نشد ({why}).</translation>
    </message>
    <message>
      <location filename="../../ui/globalhotkeys.py" line="182" />
      <source>“{key}” for “{action}” is not made global: without Ctrl or Alt it would be taken from typing in every program. It works while callsys has the focus.</source>
      <translation>«{key}» برای «{action}» سراسری نشد: بدون Ctrl یا Alt از تایپ در همهٔ برنامه‌ها گرفته می‌شد. تا وقتی callsys در کانون توجه است کار می‌کند.</translation>
    </message>
    <message>
      <location filename="../../ui/globalhotkeys.py" line="172" />
      <source>“{name}” in the global hotkey actions is not an action; known: {known}.</source>
      <translation>«{name}» در کارهای کلیدهای سراسری، کار شناخته‌شده‌ای نیست؛ کارهای شناخته‌شده: {known}.</translation>
    </message>
  </context>
  <context>
    <name>Hotkeys</name>
    <message>
      <location filename="../../ui/hotkeys.py" line="52" />
      <source>&amp;Answer</source>
      <translation>&amp;پاسخ</translation>
    </message>
    <message>
      <location filename="../../ui/hotkeys.py" line="66" />
      <source>&amp;Contacts</source>
      <translation>&amp;مخاطبان</translation>
    </message>
    <message>
      <location filename="../../ui/hotkeys.py" line="67" />
      <source>&amp;Dial pad</source>
      <translation>&amp;صفحه شماره‌گیری</translation>
    </message>
    <message>
      <location filename="../../ui/hotkeys.py" line="56" />
      <source>&amp;Hold / resume</source>
      <translation>&amp;نگه‌داشتن / ازسرگیری</translation>
    </message>
    <message>
      <location filename="../../ui/hotkeys.py" line="57" />
      <source>&amp;Mute / unmute</source>
      <translation>&amp;بی‌صدا / صدادار</translation>
    </message>
    <message>
      <location filename="../../ui/hotkeys.py" line="53" />
      <source>&amp;Reject</source>
      <translation>&amp;رد تماس</translation>
    </message>
    <message>
      <location filename="../../ui/hotkeys.py" line="64" />
      <source>&amp;Search the log</source>
      <translation>&amp;جستجو در فهرست</translation>
    </message>
    <message>
      <location filename="../../ui/hotkeys.py" line="62" />
      <source>Call &amp;back</source>
      <translation>تماس &amp;دوباره</translation>
    </message>
    <message>
      <location filename="../../ui/hotkeys.py" line="65" />
      <source>Call &amp;notes</source>
      <translation>&amp;یادداشت تماس</translation>
    </message>
    <message>
      <location filename="../../ui/hotkeys.py" line="60" />
      <source>Conf&amp;erence</source>
      <translation>کن&amp;فرانس</translation>
    </message>
    <message>
      <location filename="../../ui/hotkeys.py" line="58" />
      <source>Consu&amp;lt…</source>
      <translation>م&amp;شورت…</translation>
    </message>
    <message>
      <location filename="../../ui/hotkeys.py" line="61" />
      <source>Dial the &amp;clipboard</source>
      <translation>تماس با شماره &amp;حافظه موقت</translation>
    </message>
    <message>
      <location filename="../../ui/hotkeys.py" line="63" />
      <source>Go to the number &amp;field</source>
      <translation>رفتن به &amp;کادر شماره</translation>
    </message>
    <message>
      <location filename="../../ui/hotkeys.py" line="55" />
      <source>Hang &amp;up</source>
      <translation>&amp;قطع تماس</translation>
    </message>
    <message>
      <location filename="../../ui/hotkeys.py" line="54" />
      <source>Send to v&amp;oicemail</source>
      <translation>ارسال به پست &amp;صوتی</translation>
    </message>
    <message>
      <location filename="../../ui/hotkeys.py" line="105" />
      <source>The key “{key}” for “{action}” is not a key combination.</source>
      <translation>کلید «{key}» برای «{action}» یک ترکیب کلید معتبر نیست.</translation>
    </message>
    <message>
      <location filename="../../ui/hotkeys.py" line="59" />
      <source>Transfer to consulted</source>
      <translation>انتقال به طرف مشورت</translation>
    </message>
    <message>
      <location filename="../../ui/hotkeys.py" line="112" />
      <source>“{key}” is set for both “{first}” and “{second}”; only the first works.</source>
      <translation>«{key}» هم برای «{first}» و هم برای «{second}» تنظیم شده است؛ فقط اولی کار می‌کند.</translation>
    </message>
  </context>
  <context>
    <name>KeyField</name>
    <message>
      <location filename="../../ui/keyfield.py" line="59" />
      <source>A letter, digit or typing key needs Ctrl or Alt: alone it would be taken from typing. Function keys such as F9 work alone.</source>
      <translation>یک حرف، رقم یا کلید تایپی به Ctrl یا Alt نیاز دارد: به‌تنهایی از تایپ گرفته می‌شد. کلیدهای تابعی مانند F9 به‌تنهایی کار می‌کنند.</translation>
    </message>
  </context>
  <context>
    <name>MainWindow</name>
    <message>
      <location filename="../../ui/mainwindow.py" line="533" />
      <source>&amp;About callsys</source>
      <translation>&amp;درباره callsys</translation>
    </message>
    <message>
      <location filename="../../ui/mainwindow.py" line="515" />
      <source>&amp;Do not disturb</source>
      <translation>&amp;مزاحم نشوید</translation>
    </message>
    <message>
      <location filename="../../ui/mainwindow.py" line="511" />
      <source>&amp;File</source>
      <translation>&amp;پرونده</translation>
    </message>
    <message>
      <location filename="../../ui/mainwindow.py" line="532" />
      <source>&amp;Help</source>
      <translation>&amp;راهنما</translation>
    </message>
    <message>
      <location filename="../../ui/mainwindow.py" line="525" />
      <source>&amp;Jalali calendar</source>
      <translation>تقویم &amp;شمسی</translation>
    </message>
    <message>
      <location filename="../../ui/mainwindow.py" line="523" />
      <source>&amp;Language</source>
      <translation>&amp;زبان</translation>
    </message>
    <message>
      <location filename="../../ui/mainwindow.py" line="487" />
      <source>&amp;Line:</source>
      <translation>&amp;خط:</translation>
    </message>
    <message>
      <location filename="../../ui/mainwindow.py" line="482" />
      <source>&amp;Number:</source>
      <translation>ش&amp;ماره:</translation>
    </message>
    <message>
      <location filename="../../ui/mainwindow.py" line="514" />
      <source>&amp;Phone</source>
      <translation>&amp;تلفن</translation>
    </message>
    <message>
      <location filename="../../ui/mainwindow.py" line="513" />
      <source>&amp;Quit</source>
      <translation>&amp;خروج</translation>
    </message>
    <message>
      <location filename="../../ui/mainwindow.py" line="527" />
      <source>&amp;Reports…</source>
      <translation>&amp;گزارش‌ها…</translation>
    </message>
    <message>
      <location filename="../../ui/mainwindow.py" line="529" />
      <source>&amp;Ring now</source>
      <translation>&amp;زنگ آزمایشی</translation>
    </message>
    <message>
      <location filename="../../ui/mainwindow.py" line="512" />
      <source>&amp;Settings…</source>
      <translation>&amp;تنظیمات…</translation>
    </message>
    <message>
      <location filename="../../ui/mainwindow.py" line="528" />
      <source>&amp;Simulate</source>
      <translation>&amp;شبیه‌سازی</translation>
    </message>
    <message>
      <location filename="../../ui/mainwindow.py" line="522" />
      <source>&amp;View</source>
      <translation>&amp;نما</translation>
    </message>
    <message>
      <location filename="../../ui/firststart.py" line="92" />
      <source>(+{count} more lines)</source>
      <translation>(+{count} خط دیگر)</translation>
    </message>
    <message>
      <location filename="../../ui/mainwindow.py" line="1572" />
      <source>About callsys</source>
      <translation>درباره callsys</translation>
    </message>
    <message>
      <location filename="../../ui/mainwindow.py" line="502" />
      <source>All calls</source>
      <translation>همه تماس‌ها</translation>
    </message>
    <message>
      <location filename="../../ui/mainwindow.py" line="489" />
      <source>Call</source>
      <translation>تماس</translation>
    </message>
    <message>
      <location filename="../../ui/mainwindow.py" line="128" />
      <source>Call answered elsewhere</source>
      <translation>تماسی که جای دیگر پاسخ داده شد</translation>
    </message>
    <message>
      <location filename="../../ui/mainwindow.py" line="496" />
      <source>Call log</source>
      <translation>فهرست تماس‌ها</translation>
    </message>
    <message>
      <location filename="../../ui/mainwindow.py" line="490" />
      <source>Call the number</source>
      <translation>تماس با این شماره</translation>
    </message>
    <message>
      <location filename="../../ui/mainwindow.py" line="129" />
      <source>Call with IVR values</source>
      <translation>تماس با ورودی‌های منوی صوتی (IVR)</translation>
    </message>
    <message>
      <location filename="../../ui/firststart.py" line="70" />
      <source>Connecting to the phone system…</source>
      <translation>در حال اتصال به سامانه تلفن…</translation>
    </message>
    <message>
      <location filename="../../ui/mainwindow.py" line="537" />
      <source>Contacts</source>
      <translation>مخاطبان</translation>
    </message>
    <message>
      <location filename="../../ui/mainwindow.py" line="538" />
      <source>Dial pad</source>
      <translation>صفحه شماره‌گیری</translation>
    </message>
    <message>
      <location filename="../../ui/firststart.py" line="104" />
      <source>Direct calls on {address} (reachable from the network)</source>
      <translation>تماس مستقیم روی {address} (در دسترس از شبکه)</translation>
    </message>
    <message>
      <location filename="../../ui/firststart.py" line="102" />
      <source>Direct calls on {address} (this computer only)</source>
      <translation>تماس مستقیم روی {address} (فقط از همین رایانه)</translation>
    </message>
    <message>
      <location filename="../../ui/mainwindow.py" line="918" />
      <source>Do not disturb</source>
      <translation>مزاحم نشوید</translation>
    </message>
    <message>
      <location filename="../../ui/mainwindow.py" line="492" />
      <source>Hide this message</source>
      <translation>پنهان کردن این پیام</translation>
    </message>
    <message>
      <location filename="../../ui/mainwindow.py" line="964" />
      <source>In the settings file: {why}</source>
      <translation>در فایل تنظیمات: {why}</translation>
    </message>
    <message>
      <location filename="../../ui/mainwindow.py" line="505" />
      <source>Incoming</source>
      <translation>ورودی</translation>
    </message>
    <message>
      <location filename="../../ui/mainwindow.py" line="125" />
      <source>Incoming call, answered</source>
      <translation>تماس ورودی، پاسخ‌داده‌شده</translation>
    </message>
    <message>
      <location filename="../../ui/mainwindow.py" line="488" />
      <source>Line to dial from</source>
      <translation>خط برای شماره‌گیری</translation>
    </message>
    <message>
      <location filename="../../ui/mainwindow.py" line="1431" />
      <source>Links could not be registered: {why}</source>
      <translation>پیوندها ثبت نشد: {why}</translation>
    </message>
    <message>
      <location filename="../../ui/mainwindow.py" line="504" />
      <source>Missed</source>
      <translation>بی پاسخ</translation>
    </message>
    <message>
      <location filename="../../ui/mainwindow.py" line="126" />
      <source>Missed call</source>
      <translation>تماس بی پاسخ</translation>
    </message>
    <message>
      <location filename="../../ui/firststart.py" line="100" />
      <source>No line · direct calls on {address} (reachable from the network)</source>
      <translation>بدون خط · تماس مستقیم روی {address} (در دسترس از شبکه)</translation>
    </message>
    <message>
      <location filename="../../ui/firststart.py" line="98" />
      <source>No line · direct calls on {address} (this computer only)</source>
      <translation>بدون خط · تماس مستقیم روی {address} (فقط از همین رایانه)</translation>
    </message>
    <message>
      <location filename="../../ui/firststart.py" line="68" />
      <source>No phone connection</source>
      <translation>اتصال تلفن تنظیم نشده</translation>
    </message>
    <message>
      <location filename="../../ui/mainwindow.py" line="1172" />
      <source>No record matches “{text}”.</source>
      <translation>هیچ رکوردی با «{text}» پیدا نشد.</translation>
    </message>
    <message>
      <location filename="../../ui/mainwindow.py" line="1353" />
      <source>Not saved: the settings file could not be read, so it is not written over. File → Settings says how to go on.</source>
      <translation>ذخیره نشد: فایل تنظیمات خوانده نشد، برای همین چیزی روی آن نوشته نمی‌شود. پرونده ← تنظیمات می‌گوید چه کنید.</translation>
    </message>
    <message>
      <location filename="../../ui/mainwindow.py" line="967" />
      <source>Not used, check the phone settings: {why}</source>
      <translation>استفاده نشد، تنظیمات تلفن را بررسی کنید: {why}</translation>
    </message>
    <message>
      <location filename="../../ui/mainwindow.py" line="486" />
      <source>Number to dial</source>
      <translation>شماره برای تماس</translation>
    </message>
    <message>
      <location filename="../../ui/mainwindow.py" line="484" />
      <source>Number, name or tel: link — Enter dials or searches</source>
      <translation>شماره، نام یا پیوند tel: — با Enter تماس یا جستجو</translation>
    </message>
    <message>
      <location filename="../../ui/mainwindow.py" line="518" />
      <source>Open &amp;tel: and callto: links with callsys</source>
      <translation>باز کردن پیوندهای &amp;tel: و callto: با callsys</translation>
    </message>
    <message>
      <location filename="../../ui/mainwindow.py" line="535" />
      <source>Open the &amp;log folder</source>
      <translation>باز کردن پوشه &amp;گزارش کار</translation>
    </message>
    <message>
      <location filename="../../ui/mainwindow.py" line="506" />
      <source>Outgoing</source>
      <translation>خروجی</translation>
    </message>
    <message>
      <location filename="../../ui/mainwindow.py" line="132" />
      <source>Outgoing call</source>
      <translation>تماس خروجی</translation>
    </message>
    <message>
      <location filename="../../ui/firststart.py" line="72" />
      <source>Phone offline</source>
      <translation>تلفن قطع است</translation>
    </message>
    <message>
      <location filename="../../ui/firststart.py" line="75" />
      <source>Phone ready</source>
      <translation>تلفن آماده است</translation>
    </message>
    <message>
      <location filename="../../ui/mainwindow.py" line="722" />
      <source>Quit callsys?</source>
      <translation>از callsys خارج شوید؟</translation>
    </message>
    <message>
      <location filename="../../ui/mainwindow.py" line="493" />
      <source>Recent calls</source>
      <translation>تماس‌های اخیر</translation>
    </message>
    <message>
      <location filename="../../ui/firststart.py" line="88" />
      <source>Registered as {account}</source>
      <translation>ثبت‌شده با حساب {account}</translation>
    </message>
    <message>
      <location filename="../../ui/mainwindow.py" line="127" />
      <source>Rejected call</source>
      <translation>تماس ردشده</translation>
    </message>
    <message>
      <location filename="../../ui/mainwindow.py" line="495" />
      <source>Search the call log</source>
      <translation>جستجو در فهرست تماس‌ها</translation>
    </message>
    <message>
      <location filename="../../ui/mainwindow.py" line="494" />
      <source>Search the log</source>
      <translation>جستجو در فهرست</translation>
    </message>
    <message>
      <location filename="../../ui/mainwindow.py" line="497" />
      <source>Show</source>
      <translation>نمایش</translation>
    </message>
    <message>
      <location filename="../../ui/mainwindow.py" line="1010" />
      <source>Show the missed calls</source>
      <translation>نمایش تماس‌های بی پاسخ</translation>
    </message>
    <message>
      <location filename="../../ui/mainwindow.py" line="948" />
      <source>The CRM is not available: {why} Callers are not identified.</source>
      <translation>CRM در دسترس نیست: {why} تماس‌گیرندگان شناسایی نمی‌شوند.</translation>
    </message>
    <message>
      <location filename="../../ui/mainwindow.py" line="961" />
      <source>The call log cannot be saved: {why}</source>
      <translation>فهرست تماس‌ها ذخیره نمی‌شود: {why}</translation>
    </message>
    <message>
      <location filename="../../ui/mainwindow.py" line="868" />
      <source>The caller could not be looked up: {why}</source>
      <translation>جستجوی تماس‌گیرنده انجام نشد: {why}</translation>
    </message>
    <message>
      <location filename="../../ui/mainwindow.py" line="642" />
      <source>The callsys server changed {count} setting(s); all apply at the next start.</source>
      <translation>سرور callsys {count} تنظیم را تغییر داد؛ همه از اجرای بعدی اعمال می‌شوند.</translation>
    </message>
    <message>
      <location filename="../../ui/mainwindow.py" line="1690" />
      <source>The clipboard holds no number to dial.</source>
      <translation>در حافظه موقت شماره‌ای برای تماس نیست.</translation>
    </message>
    <message>
      <location filename="../../ui/mainwindow.py" line="1563" />
      <source>The log folder is {path}.</source>
      <translation>پوشه گزارش کار: {path}</translation>
    </message>
    <message>
      <location filename="../../ui/mainwindow.py" line="1076" />
      <source>The phone connection cannot do that.</source>
      <translation>اتصال تلفن از این کار پشتیبانی نمی‌کند.</translation>
    </message>
    <message>
      <location filename="../../ui/mainwindow.py" line="997" />
      <source>The phone connection cannot place calls.</source>
      <translation>با این اتصال تلفن نمی‌توان تماس گرفت.</translation>
    </message>
    <message>
      <location filename="../../ui/mainwindow.py" line="940" />
      <source>The phone connection could not start: {why} Calls cannot be placed or answered until it is fixed in Settings.</source>
      <translation>اتصال تلفن راه‌اندازی نشد: {why} تا وقتی در تنظیمات اصلاح نشود، نمی‌توان تماس گرفت یا پاسخ داد.</translation>
    </message>
    <message>
      <location filename="../../ui/mainwindow.py" line="954" />
      <source>The settings could not be read: {why} callsys runs with the defaults for now.</source>
      <translation>تنظیمات خوانده نشد: {why} callsys فعلاً با تنظیمات پیش‌فرض اجرا می‌شود.</translation>
    </message>
    <message>
      <location filename="../../ui/mainwindow.py" line="1398" />
      <source>The unreadable settings file was kept as {path}.</source>
      <translation>فایل تنظیماتِ ناخوانا با نام {path} نگه داشته شد.</translation>
    </message>
    <message>
      <location filename="../../ui/mainwindow.py" line="1162" />
      <source>There is no directory to search.</source>
      <translation>دفترچه‌ای برای جستجو وجود ندارد.</translation>
    </message>
    <message>
      <location filename="../../ui/mainwindow.py" line="1222" />
      <source>This phone connection dials phone numbers, not SIP addresses like “{text}”.</source>
      <translation>این اتصال تلفن با شماره‌های تلفن تماس می‌گیرد، نه با نشانی‌های SIP مانند «{text}».</translation>
    </message>
    <message>
      <location filename="../../ui/mainwindow.py" line="503" />
      <source>This session</source>
      <translation>این نشست</translation>
    </message>
    <message>
      <location filename="../../ui/mainwindow.py" line="131" />
      <source>Two waiting calls</source>
      <translation>دو تماس در انتظار</translation>
    </message>
    <message>
      <location filename="../../ui/mainwindow.py" line="700" />
      <source>Updating the phone index: {table}, {count} of about {expected} records, {rate} a second, about {left} left</source>
      <translation>به‌روزرسانی فهرست شماره‌ها: {table}، {count} از حدود {expected} رکورد، {rate} در ثانیه، حدود {left} مانده</translation>
    </message>
    <message>
      <location filename="../../ui/mainwindow.py" line="693" />
      <source>Updating the phone index: {table}, {count} records, {rate} a second</source>
      <translation>به‌روزرسانی فهرست شماره‌ها: {table}، {count} رکورد، {rate} در ثانیه</translation>
    </message>
    <message>
      <location filename="../../ui/mainwindow.py" line="491" />
      <source>Use the simulator</source>
      <translation>استفاده از شبیه‌ساز</translation>
    </message>
    <message>
      <location filename="../../ui/mainwindow.py" line="130" />
      <source>Waiting call</source>
      <translation>تماس در انتظار</translation>
    </message>
    <message>
      <location filename="../../ui/mainwindow.py" line="1573" />
      <source>callsys {version} — joins your phone system to Microsoft Dynamics 365. Free software under the GPL.</source>
      <translation>callsys نسخه {version} — سامانه تلفن شما را به Microsoft Dynamics 365 وصل می‌کند. نرم‌افزار آزاد با مجوز GPL.</translation>
    </message>
    <message>
      <location filename="../../ui/mainwindow.py" line="1016" />
      <source>callsys — calls and CRM</source>
      <translation>callsys — تماس‌ها و CRM</translation>
    </message>
    <message>
      <location filename="../../ui/mainwindow.py" line="1434" />
      <source>tel: and callto: links now open callsys ({where}).</source>
      <translation>از این پس پیوندهای tel: و callto: با callsys باز می‌شوند ({where}).</translation>
    </message>
    <message>
      <location filename="../../ui/mainwindow.py" line="723" />
      <source>{count} call(s) in progress will be cut off. Quit anyway?</source>
      <translation>{count} تماس جاری قطع خواهد شد. با این حال خارج می‌شوید؟</translation>
    </message>
    <message>
      <location filename="../../ui/mainwindow.py" line="1008" />
      <source>{count} missed</source>
      <translation>{count} بی پاسخ</translation>
    </message>
    <message>
      <location filename="../../ui/mainwindow.py" line="1211" />
      <source>“{text}” is not a SIP address that can be dialled (user@host or user@host:port).</source>
      <translation>«{text}» نشانی SIP قابل تماسی نیست (user@host یا user@host:port).</translation>
    </message>
    <message>
      <location filename="../../ui/mainwindow.py" line="1231" />
      <source>“{text}” is not a number that can be dialled.</source>
      <translation>«{text}» شماره‌ای نیست که بتوان با آن تماس گرفت.</translation>
    </message>
  </context>
  <context>
    <name>Notes</name>
    <message>
      <location filename="../../ui/notes.py" line="195" />
      <source>(filled in when the call ends)</source>
      <translation>(پس از پایان تماس پر می‌شود)</translation>
    </message>
    <message>
      <location filename="../../ui/notes.py" line="169" />
      <source>Call notes</source>
      <translation>یادداشت‌های تماس</translation>
    </message>
    <message>
      <location filename="../../ui/notes.py" line="178" />
      <source>Close</source>
      <translation>بستن</translation>
    </message>
    <message>
      <location filename="../../ui/notes.py" line="179" />
      <source>Close the notes</source>
      <translation>بستن یادداشت‌ها</translation>
    </message>
    <message>
      <location filename="../../ui/notes.py" line="171" />
      <source>Direction:</source>
      <translation>جهت:</translation>
    </message>
    <message>
      <location filename="../../ui/notes.py" line="173" />
      <source>Duration:</source>
      <translation>مدت:</translation>
    </message>
    <message>
      <location filename="../../ui/notes.py" line="161" />
      <source>Not saved yet</source>
      <translation>هنوز ذخیره نشده</translation>
    </message>
    <message>
      <location filename="../../ui/notes.py" line="170" />
      <source>Number:</source>
      <translation>شماره:</translation>
    </message>
    <message>
      <location filename="../../ui/notes.py" line="176" />
      <source>Save</source>
      <translation>ذخیره</translation>
    </message>
    <message>
      <location filename="../../ui/notes.py" line="177" />
      <source>Save the notes</source>
      <translation>ذخیره یادداشت‌ها</translation>
    </message>
    <message>
      <location filename="../../ui/notes.py" line="163" />
      <source>Saved</source>
      <translation>ذخیره شد</translation>
    </message>
    <message>
      <location filename="../../ui/notes.py" line="172" />
      <source>Started:</source>
      <translation>شروع:</translation>
    </message>
    <message>
      <location filename="../../ui/notes.py" line="174" />
      <source>Type notes about the call here…</source>
      <translation>یادداشت‌های این تماس را اینجا بنویسید…</translation>
    </message>
    <message>
      <location filename="../../ui/notes.py" line="185" />
      <source>Unknown caller</source>
      <translation>تماس‌گیرنده ناشناس</translation>
    </message>
  </context>
  <context>
    <name>Popup</name>
    <message>
      <location filename="../../ui/popup.py" line="347" />
      <source>Answer</source>
      <translation>پاسخ</translation>
    </message>
    <message>
      <location filename="../../ui/popup.py" line="349" />
      <source>Answer the call</source>
      <translation>پاسخ به تماس</translation>
    </message>
    <message>
      <location filename="../../ui/popup.py" line="333" />
      <source>Caller entered: {values}</source>
      <translation>ورودی تماس‌گیرنده: {values}</translation>
    </message>
    <message>
      <location filename="../../ui/popup.py" line="327" />
      <source>Click the number to answer</source>
      <translation>برای پاسخ روی شماره کلیک کنید</translation>
    </message>
    <message>
      <location filename="../../ui/popup.py" line="55" />
      <source>Good afternoon, {name}</source>
      <translation>عصر بخیر، {name}</translation>
    </message>
    <message>
      <location filename="../../ui/popup.py" line="56" />
      <source>Good evening, {name}</source>
      <translation>وقت بخیر، {name}</translation>
    </message>
    <message>
      <location filename="../../ui/popup.py" line="53" />
      <source>Good morning, {name}</source>
      <translation>صبح بخیر، {name}</translation>
    </message>
    <message>
      <location filename="../../ui/popup.py" line="291" />
      <source>Incoming call</source>
      <translation>تماس ورودی</translation>
    </message>
    <message>
      <location filename="../../ui/popup.py" line="297" />
      <source>Line: {line}</source>
      <translation>خط: {line}</translation>
    </message>
    <message>
      <location filename="../../ui/popup.py" line="308" />
      <source>Looking up…</source>
      <translation>در حال جستجو…</translation>
    </message>
    <message>
      <location filename="../../ui/popup.py" line="322" />
      <source>No caller ID</source>
      <translation>شماره نامشخص</translation>
    </message>
    <message>
      <location filename="../../ui/popup.py" line="315" />
      <source>Not in the directory</source>
      <translation>در فهرست مخاطبان نیست</translation>
    </message>
    <message>
      <location filename="../../ui/popup.py" line="303" />
      <source>Open the record</source>
      <translation>باز کردن رکورد</translation>
    </message>
    <message>
      <location filename="../../ui/popup.py" line="348" />
      <source>Reject</source>
      <translation>رد تماس</translation>
    </message>
    <message>
      <location filename="../../ui/popup.py" line="350" />
      <source>Reject the call</source>
      <translation>رد کردن تماس</translation>
    </message>
    <message>
      <location filename="../../ui/popup.py" line="352" />
      <source>Send the call to voicemail</source>
      <translation>فرستادن تماس به پست صوتی</translation>
    </message>
    <message>
      <location filename="../../ui/popup.py" line="310" />
      <source>Unknown caller</source>
      <translation>تماس‌گیرنده ناشناس</translation>
    </message>
    <message>
      <location filename="../../ui/popup.py" line="351" />
      <source>Voicemail</source>
      <translation>پست صوتی</translation>
    </message>
    <message>
      <location filename="../../ui/popup.py" line="291" />
      <source>Waiting call</source>
      <translation>تماس در انتظار</translation>
    </message>
    <message>
      <location filename="../../ui/popup.py" line="257" />
      <source>Waiting for {time}</source>
      <translation>{time} در انتظار</translation>
    </message>
    <message>
      <location filename="../../ui/popup.py" line="293" />
      <source>Waiting longest</source>
      <translation>بیشترین انتظار</translation>
    </message>
    <message>
      <location filename="../../ui/popup.py" line="338" />
      <source>{count} records match this number — pick one:</source>
      <translation>{count} رکورد با این شماره جور است — یکی را انتخاب کنید:</translation>
    </message>
  </context>
  <context>
    <name>ReportsView</name>
    <message>
      <location filename="../../ui/reports.py" line="486" />
      <source>&amp;Export CSV…</source>
      <translation>&amp;خروجی CSV…</translation>
    </message>
    <message>
      <location filename="../../ui/reports.py" line="478" />
      <source>&amp;From:</source>
      <translation>&amp;از:</translation>
    </message>
    <message>
      <location filename="../../ui/reports.py" line="467" />
      <source>&amp;Period:</source>
      <translation>&amp;بازه:</translation>
    </message>
    <message>
      <location filename="../../ui/reports.py" line="484" />
      <source>&amp;Refresh</source>
      <translation>&amp;به‌روزرسانی</translation>
    </message>
    <message>
      <location filename="../../ui/reports.py" line="482" />
      <source>&amp;Source:</source>
      <translation>&amp;منبع:</translation>
    </message>
    <message>
      <location filename="../../ui/reports.py" line="480" />
      <source>&amp;To:</source>
      <translation>&amp;تا:</translation>
    </message>
    <message>
      <location filename="../../ui/reports.py" line="121" />
      <source>(no line)</source>
      <translation>(بدون خط)</translation>
    </message>
    <message>
      <location filename="../../ui/reports.py" line="123" />
      <source>(unknown)</source>
      <translation>(نامشخص)</translation>
    </message>
    <message>
      <location filename="../../ui/reports.py" line="116" />
      <source>All calls</source>
      <translation>همهٔ تماس‌ها</translation>
    </message>
    <message>
      <location filename="../../ui/reports.py" line="162" />
      <source>Answered</source>
      <translation>پاسخ‌داده</translation>
    </message>
    <message>
      <location filename="../../ui/reports.py" line="164" />
      <source>Answered %</source>
      <translation>درصد پاسخ</translation>
    </message>
    <message>
      <location filename="../../ui/reports.py" line="165" />
      <source>Average talk time</source>
      <translation>میانگین مدت مکالمه</translation>
    </message>
    <message>
      <location filename="../../ui/reports.py" line="108" />
      <source>By direction</source>
      <translation>بر اساس جهت</translation>
    </message>
    <message>
      <location filename="../../ui/reports.py" line="109" />
      <source>By line</source>
      <translation>بر اساس خط</translation>
    </message>
    <message>
      <location filename="../../ui/reports.py" line="110" />
      <source>By user (extension)</source>
      <translation>بر اساس کاربر (داخلی)</translation>
    </message>
    <message>
      <location filename="../../ui/reports.py" line="618" />
      <source>CSV files (*.csv)</source>
      <translation>فایل‌های CSV (*.csv)</translation>
    </message>
    <message>
      <location filename="../../ui/reports.py" line="466" />
      <source>Call reports</source>
      <translation>گزارش تماس‌ها</translation>
    </message>
    <message>
      <location filename="../../ui/reports.py" line="161" />
      <source>Calls</source>
      <translation>تماس‌ها</translation>
    </message>
    <message>
      <location filename="../../ui/reports.py" line="485" />
      <source>Count the calls again</source>
      <translation>شمارش دوبارهٔ تماس‌ها</translation>
    </message>
    <message>
      <location filename="../../ui/reports.py" line="578" />
      <source>Counting the calls…</source>
      <translation>در حال شمارش تماس‌ها…</translation>
    </message>
    <message>
      <location filename="../../ui/reports.py" line="474" />
      <source>Custom</source>
      <translation>دلخواه</translation>
    </message>
    <message>
      <location filename="../../ui/reports.py" line="78" />
      <source>Dynamics 365 (all agents)</source>
      <translation>Dynamics 365 (همهٔ کارشناسان)</translation>
    </message>
    <message>
      <location filename="../../ui/reports.py" line="646" />
      <source>Dynamics 365 has no line column: calls per line come from the local call log.</source>
      <translation>Dynamics 365 ستون خط ندارد: تماس‌ها بر اساس خط از گزارش تماس محلی می‌آیند.</translation>
    </message>
    <message>
      <location filename="../../ui/reports.py" line="487" />
      <source>Export the figures as CSV</source>
      <translation>خروجی گرفتن از ارقام به صورت CSV</translation>
    </message>
    <message>
      <location filename="../../ui/reports.py" line="616" />
      <source>Export the report</source>
      <translation>خروجی گزارش</translation>
    </message>
    <message>
      <location filename="../../ui/reports.py" line="489" />
      <source>Figures by group</source>
      <translation>ارقام بر اساس گروه</translation>
    </message>
    <message>
      <location filename="../../ui/reports.py" line="479" />
      <source>First day</source>
      <translation>روز نخست</translation>
    </message>
    <message>
      <location filename="../../ui/reports.py" line="639" />
      <source>From this computer's call log only; users are extensions.</source>
      <translation>فقط از گزارش تماس این رایانه؛ کاربران همان داخلی‌ها هستند.</translation>
    </message>
    <message>
      <location filename="../../ui/reports.py" line="472" />
      <source>Last 30 days</source>
      <translation>۳۰ روز گذشته</translation>
    </message>
    <message>
      <location filename="../../ui/reports.py" line="471" />
      <source>Last 7 days</source>
      <translation>۷ روز گذشته</translation>
    </message>
    <message>
      <location filename="../../ui/reports.py" line="481" />
      <source>Last day</source>
      <translation>روز آخر</translation>
    </message>
    <message>
      <location filename="../../ui/reports.py" line="160" />
      <source>Name</source>
      <translation>نام</translation>
    </message>
    <message>
      <location filename="../../ui/reports.py" line="292" />
      <source>No calls</source>
      <translation>بدون تماس</translation>
    </message>
    <message>
      <location filename="../../ui/reports.py" line="468" />
      <source>Period</source>
      <translation>بازه</translation>
    </message>
    <message>
      <location filename="../../ui/reports.py" line="628" />
      <source>Saved {path}</source>
      <translation>{path} ذخیره شد</translation>
    </message>
    <message>
      <location filename="../../ui/reports.py" line="488" />
      <source>Summary</source>
      <translation>خلاصه</translation>
    </message>
    <message>
      <location filename="../../ui/reports.py" line="643" />
      <source>Talk time from Dynamics 365 is in whole minutes.</source>
      <translation>مدت مکالمه در Dynamics 365 به دقیقهٔ کامل است.</translation>
    </message>
    <message>
      <location filename="../../ui/reports.py" line="642" />
      <source>The local call log is empty.</source>
      <translation>گزارش تماس محلی خالی است.</translation>
    </message>
    <message>
      <location filename="../../ui/reports.py" line="584" />
      <source>The report could not be made: {why}</source>
      <translation>گزارش ساخته نشد: {why}</translation>
    </message>
    <message>
      <location filename="../../ui/reports.py" line="563" />
      <source>There is no call log to report on.</source>
      <translation>گزارش تماسی برای گزارش‌گیری وجود ندارد.</translation>
    </message>
    <message>
      <location filename="../../ui/reports.py" line="77" />
      <source>This computer's call log</source>
      <translation>گزارش تماس این رایانه</translation>
    </message>
    <message>
      <location filename="../../ui/reports.py" line="473" />
      <source>This month</source>
      <translation>این ماه</translation>
    </message>
    <message>
      <location filename="../../ui/reports.py" line="470" />
      <source>Today</source>
      <translation>امروز</translation>
    </message>
    <message>
      <location filename="../../ui/reports.py" line="163" />
      <source>Unanswered</source>
      <translation>بی‌پاسخ</translation>
    </message>
    <message>
      <location filename="../../ui/reports.py" line="483" />
      <source>Where the figures come from</source>
      <translation>منبع ارقام</translation>
    </message>
    <message>
      <location filename="../../ui/reports.py" line="183" />
      <source>{calls} calls · {answered} answered ({answered_percent}) · {unanswered} unanswered ({unanswered_percent}) · average talk time {talk}</source>
      <translation>{calls} تماس، {answered} پاسخ‌داده ({answered_percent})، {unanswered} بی‌پاسخ ({unanswered_percent})، میانگین مکالمه {talk}</translation>
    </message>
    <message>
      <location filename="../../ui/reports.py" line="251" />
      <source>{name}: {answered} answered, {unanswered} unanswered</source>
      <translation>{name}: {answered} پاسخ‌داده، {unanswered} بی‌پاسخ</translation>
    </message>
  </context>
  <context>
    <name>Settings</name>
    <message>
      <location filename="../../callsys/settings.py" line="420" />
      <source>0 = Canceled; or a custom status reason under Completed (e.g. 100000000) — see `callsys crm discover`</source>
      <translation>۰ = لغوشده؛ یا یک دلیل وضعیت سفارشی زیر «تکمیل‌شده» (مثلاً 100000000) — `callsys crm discover` را ببینید</translation>
    </message>
    <message>
      <location filename="../../callsys/settings.py" line="472" />
      <source>0 = any free port</source>
      <translation>۰ = هر درگاه آزاد</translation>
    </message>
    <message>
      <location filename="../../callsys/settings.py" line="523" />
      <source>A JSON file served to desktops at /update/manifest.json; empty = none</source>
      <translation>فایل JSON که در ‎/update/manifest.json‎ به میزکارها داده می‌شود؛ خالی = هیچ</translation>
    </message>
    <message>
      <location filename="../../callsys/settings.py" line="531" />
      <source>A TOML file written like /etc/callsys/settings.toml (with [locked] keys) that connected desktops apply between the system file and the user's own; empty = none</source>
      <translation>یک فایل TOML به شکل /etc/callsys/settings.toml (با کلیدهای [locked]) که رایانه‌های متصل آن را میان فایل سیستم و فایل خود کاربر اعمال می‌کنند؛ خالی = هیچ</translation>
    </message>
    <message>
      <location filename="../../callsys/settings.py" line="488" />
      <source>A desktop that stops answering for this long loses its seat</source>
      <translation>میزکاری که این مدت پاسخ ندهد جایگاهش را از دست می‌دهد</translation>
    </message>
    <message>
      <location filename="../../callsys/settings.py" line="679" />
      <source>A panel above the dial field while there is no settings file yet; administrators who provision callsys turn it off for a silent first start</source>
      <translation>پنلی بالای کادر شماره‌گیری تا وقتی هنوز فایل تنظیماتی نیست؛ مدیرانی که callsys را از پیش پیکربندی می‌کنند آن را برای نخستین اجرای بی‌صدا خاموش می‌کنند</translation>
    </message>
    <message>
      <location filename="../../callsys/settings.py" line="446" />
      <source>A table without change tracking is read again in full this often (to find deleted records); in between, only its changed records are read</source>
      <translation>جدولی که ردیابی تغییرات ندارد در این فاصله دوباره به‌طور کامل خوانده می‌شود (تا رکوردهای حذف‌شده پیدا شوند)؛ در این میان فقط رکوردهای تغییرکرده‌اش خوانده می‌شوند</translation>
    </message>
    <message>
      <location filename="../../callsys/settings.py" line="243" />
      <source>Added in front of every outgoing public number</source>
      <translation>جلوی هر شماره بیرونی که گرفته می‌شود اضافه می‌شود</translation>
    </message>
    <message>
      <location filename="../../callsys/settings.py" line="649" />
      <source>Also when another program has the focus (global hotkeys)</source>
      <translation>حتی وقتی برنامهٔ دیگری در کانون توجه است (کلیدهای سراسری)</translation>
    </message>
    <message>
      <location filename="../../callsys/settings.py" line="247" />
      <source>Answer calls automatically</source>
      <translation>پاسخ خودکار به تماس‌ها</translation>
    </message>
    <message>
      <location filename="../../callsys/settings.py" line="599" />
      <source>Answer the ringing call</source>
      <translation>پاسخ به تماس در حال زنگ</translation>
    </message>
    <message>
      <location filename="../../callsys/settings.py" line="323" />
      <source>App registration (client) ID</source>
      <translation>شناسهٔ ثبت برنامه (کلاینت)</translation>
    </message>
    <message>
      <location filename="../../callsys/settings.py" line="494" />
      <source>Branches</source>
      <translation>شعبه‌ها</translation>
    </message>
    <message>
      <location filename="../../callsys/settings.py" line="297" />
      <source>CRM</source>
      <translation>CRM</translation>
    </message>
    <message>
      <location filename="../../callsys/settings.py" line="589" />
      <source>Calendar</source>
      <translation>تقویم</translation>
    </message>
    <message>
      <location filename="../../callsys/settings.py" line="611" />
      <source>Call back the selected call</source>
      <translation>تماس دوباره با تماس انتخاب‌شده</translation>
    </message>
    <message>
      <location filename="../../callsys/settings.py" line="430" />
      <source>Callers are found without a network round trip; kept current by `callsys crm sync`</source>
      <translation>تماس‌گیرنده‌ها بدون رفت‌وبرگشت شبکه پیدا می‌شوند؛ با `callsys crm sync` به‌روز می‌ماند</translation>
    </message>
    <message>
      <location filename="../../callsys/settings.py" line="289" />
      <source>Calls from numbers with fewer digits (internal extensions) are not logged to the CRM</source>
      <translation>تماس از شماره‌های کوتاه‌تر (داخلی‌ها) در CRM ثبت نمی‌شود</translation>
    </message>
    <message>
      <location filename="../../callsys/settings.py" line="670" />
      <source>Calls still pop up; quit from the tray menu</source>
      <translation>تماس‌ها همچنان نمایش داده می‌شوند؛ خروج از منوی سینی سیستم</translation>
    </message>
    <message>
      <location filename="../../callsys/settings.py" line="381" />
      <source>Certificate (PEM with private key)</source>
      <translation>گواهی (PEM همراه کلید خصوصی)</translation>
    </message>
    <message>
      <location filename="../../callsys/settings.py" line="385" />
      <source>Certificate thumbprint</source>
      <translation>اثر انگشت گواهی</translation>
    </message>
    <message>
      <location filename="../../callsys/settings.py" line="726" />
      <source>Check for updates every (hours)</source>
      <translation>بررسی به‌روزرسانی هر (ساعت)</translation>
    </message>
    <message>
      <location filename="../../callsys/settings.py" line="271" />
      <source>Completes local numbers dialled without it</source>
      <translation>شماره‌های محلی بدون کد شهر را کامل می‌کند</translation>
    </message>
    <message>
      <location filename="../../callsys/settings.py" line="412" />
      <source>Custom phone columns of the standard tables, e.g. ["contact.new_otherphone"]</source>
      <translation>ستون‌های تلفن سفارشی جدول‌های استاندارد، مثلاً ["contact.new_otherphone"]</translation>
    </message>
    <message>
      <location filename="../../callsys/settings.py" line="689" />
      <source>Database file</source>
      <translation>پرونده پایگاه داده</translation>
    </message>
    <message>
      <location filename="../../callsys/settings.py" line="261" />
      <source>Default country</source>
      <translation>کشور پیش‌فرض</translation>
    </message>
    <message>
      <location filename="../../callsys/settings.py" line="245" />
      <source>Default line</source>
      <translation>خط پیش‌فرض</translation>
    </message>
    <message>
      <location filename="../../callsys/settings.py" line="513" />
      <source>Desktop agents</source>
      <translation>کاربران میزکار</translation>
    </message>
    <message>
      <location filename="../../callsys/settings.py" line="478" />
      <source>Desktop sessions at once</source>
      <translation>نشست‌های هم‌زمان میزکار</translation>
    </message>
    <message>
      <location filename="../../callsys/settings.py" line="608" />
      <source>Dial the number on the clipboard</source>
      <translation>تماس با شماره‌ای که در حافظه موقت است</translation>
    </message>
    <message>
      <location filename="../../callsys/settings.py" line="246" />
      <source>Do not disturb</source>
      <translation>مزاحم نشوید</translation>
    </message>
    <message>
      <location filename="../../callsys/settings.py" line="287" />
      <source>Do not log numbers shorter than</source>
      <translation>ثبت نکردن شماره‌های کوتاه‌تر از</translation>
    </message>
    <message>
      <location filename="../../callsys/settings.py" line="301" />
      <source>Dynamics 365 address</source>
      <translation>نشانی Dynamics 365</translation>
    </message>
    <message>
      <location filename="../../callsys/settings.py" line="505" />
      <source>Dynamics users by extension</source>
      <translation>کاربران Dynamics بر اساس داخلی</translation>
    </message>
    <message>
      <location filename="../../callsys/settings.py" line="691" />
      <source>Empty = the platform's data folder</source>
      <translation>خالی = پوشه داده‌های سیستم</translation>
    </message>
    <message>
      <location filename="../../callsys/settings.py" line="575" />
      <source>Empty: this server's own SQLite file. A postgresql:// URL: several servers share the calls; one leads</source>
      <translation>خالی: فایل SQLite خود این سرور. یک نشانی postgresql://: چند سرور تماس‌ها را به اشتراک می‌گذارند و یکی رهبری می‌کند</translation>
    </message>
    <message>
      <location filename="../../callsys/settings.py" line="677" />
      <source>Explain the phone at a first start</source>
      <translation>توضیح تلفن در نخستین اجرا</translation>
    </message>
    <message>
      <location filename="../../callsys/settings.py" line="410" />
      <source>Extra phone columns</source>
      <translation>ستون‌های تلفن اضافی</translation>
    </message>
    <message>
      <location filename="../../callsys/settings.py" line="399" />
      <source>Extra tables with phone numbers</source>
      <translation>جدول‌های اضافی دارای شماره تلفن</translation>
    </message>
    <message>
      <location filename="../../callsys/settings.py" line="444" />
      <source>Full refresh of tables without change tracking (seconds)</source>
      <translation>به‌روزرسانی کامل جدول‌های بدون ردیابی تغییرات (ثانیه)</translation>
    </message>
    <message>
      <location filename="../../callsys/settings.py" line="659" />
      <source>Global hotkey actions</source>
      <translation>کارهای کلیدهای سراسری</translation>
    </message>
    <message>
      <location filename="../../callsys/settings.py" line="613" />
      <source>Go to the number field</source>
      <translation>رفتن به کادر شماره</translation>
    </message>
    <message>
      <location filename="../../callsys/settings.py" line="604" />
      <source>Hang up</source>
      <translation>قطع تماس</translation>
    </message>
    <message>
      <location filename="../../callsys/settings.py" line="486" />
      <source>Heartbeat timeout (seconds)</source>
      <translation>مهلت ضربان (ثانیه)</translation>
    </message>
    <message>
      <location filename="../../callsys/settings.py" line="605" />
      <source>Hold or resume</source>
      <translation>نگه‌داشتن یا ازسرگیری</translation>
    </message>
    <message>
      <location filename="../../callsys/settings.py" line="619" />
      <source>Hold the call and consult the number typed</source>
      <translation>نگه‌داشتن تماس و مشورت با شماره واردشده</translation>
    </message>
    <message>
      <location filename="../../callsys/settings.py" line="566" />
      <source>How long a stopping server keeps sending queued CRM writes; the rest stays queued on disk</source>
      <translation>سرورِ در حال توقف تا این مدت نوشتن‌های صف‌شدهٔ CRM را می‌فرستد؛ بقیه روی دیسک در صف می‌ماند</translation>
    </message>
    <message>
      <location filename="../../callsys/settings.py" line="480" />
      <source>How many desktops may be connected at the same time</source>
      <translation>چند میزکار هم‌زمان می‌توانند وصل باشند</translation>
    </message>
    <message>
      <location filename="../../callsys/settings.py" line="438" />
      <source>How often the desktop and the callsys server pull changed phone numbers into the phone index</source>
      <translation>هر چند ثانیه یک بار برنامه و سرور callsys شماره‌های تغییرکرده را به نمایهٔ شماره‌ها می‌آورند</translation>
    </message>
    <message>
      <location filename="../../callsys/settings.py" line="632" />
      <source>Join the call and the consulted party in a conference</source>
      <translation>پیوستن تماس و طرف مشورت در یک کنفرانس</translation>
    </message>
    <message>
      <location filename="../../callsys/settings.py" line="428" />
      <source>Keep a local phone index</source>
      <translation>نگه‌داشتن نمایهٔ محلی شماره‌ها</translation>
    </message>
    <message>
      <location filename="../../callsys/settings.py" line="668" />
      <source>Keep running in the tray when the window is closed</source>
      <translation>با بستن پنجره، در سینی سیستم به کار ادامه بده</translation>
    </message>
    <message>
      <location filename="../../callsys/settings.py" line="391" />
      <source>Keep the sign-in unencrypted</source>
      <translation>نگه‌داشتن ورود بدون رمزنگاری</translation>
    </message>
    <message>
      <location filename="../../callsys/settings.py" line="585" />
      <source>Language</source>
      <translation>زبان</translation>
    </message>
    <message>
      <location filename="../../callsys/settings.py" line="277" />
      <source>Line names by dialled number</source>
      <translation>نام خط‌ها بر اساس شماره گرفته‌شده</translation>
    </message>
    <message>
      <location filename="../../callsys/settings.py" line="651" />
      <source>Linux with X11 only; not in a Wayland session, not on Windows or macOS. Other programs lose these keys.</source>
      <translation>فقط لینوکس با X11؛ نه در نشست Wayland، نه در ویندوز یا macOS. برنامه‌های دیگر این کلیدها را از دست می‌دهند.</translation>
    </message>
    <message>
      <location filename="../../callsys/settings.py" line="468" />
      <source>Listen on address</source>
      <translation>گوش دادن روی نشانی</translation>
    </message>
    <message>
      <location filename="../../callsys/settings.py" line="472" />
      <source>Listen on port</source>
      <translation>گوش دادن روی درگاه</translation>
    </message>
    <message>
      <location filename="../../callsys/settings.py" line="269" />
      <source>Local area code</source>
      <translation>کد شهر</translation>
    </message>
    <message>
      <location filename="../../callsys/settings.py" line="540" />
      <source>Longest wait between CRM retries (seconds)</source>
      <translation>بیشترین انتظار بین تلاش‌های دوبارهٔ CRM (ثانیه)</translation>
    </message>
    <message>
      <location filename="../../callsys/settings.py" line="340" />
      <source>Microsoft Entra sign-in address: https://login.microsoftonline.us for US Government clouds, https://login.chinacloudapi.cn for China</source>
      <translation>نشانی ورود Microsoft Entra: ‏https://login.microsoftonline.us برای ابرهای دولت آمریکا، ‏https://login.chinacloudapi.cn برای چین</translation>
    </message>
    <message>
      <location filename="../../callsys/settings.py" line="319" />
      <source>Microsoft Entra tenant</source>
      <translation>سازمان Microsoft Entra</translation>
    </message>
    <message>
      <location filename="../../callsys/settings.py" line="349" />
      <source>Model-driven app ID</source>
      <translation>شناسهٔ برنامهٔ Model-driven</translation>
    </message>
    <message>
      <location filename="../../callsys/settings.py" line="606" />
      <source>Mute or unmute</source>
      <translation>بی‌صدا یا صدادار کردن</translation>
    </message>
    <message>
      <location filename="../../callsys/settings.py" line="263" />
      <source>Numbers written without a country code belong to this country</source>
      <translation>شماره‌های بدون کد کشور متعلق به این کشورند</translation>
    </message>
    <message>
      <location filename="../../callsys/settings.py" line="515" />
      <source>One [[server.agents]] per person with a token: name, extensions, branch</source>
      <translation>برای هر فرد دارای توکن یک [[server.agents]]: نام، داخلی‌ها، شعبه</translation>
    </message>
    <message>
      <location filename="../../callsys/settings.py" line="496" />
      <source>One [[server.branches]] per PBX: name, provider (ami), options (host, port, username, secret_name), and optionally region, area_code, dial_prefix, dnis_lines</source>
      <translation>برای هر مرکز تلفن یک [[server.branches]]: name، provider (ami)، options (host، port، username، secret_name) و در صورت نیاز region، area_code، dial_prefix، dnis_lines</translation>
    </message>
    <message>
      <location filename="../../callsys/settings.py" line="393" />
      <source>Only for computers without a system keyring: anyone who can read your files can use your sign-in</source>
      <translation>فقط برای رایانه‌های بدون جاکلیدی سیستم: هر کس فایل‌های شما را بخواند می‌تواند از ورود شما استفاده کند</translation>
    </message>
    <message>
      <location filename="../../callsys/settings.py" line="615" />
      <source>Open the call notes</source>
      <translation>باز کردن یادداشت‌های تماس</translation>
    </message>
    <message>
      <location filename="../../callsys/settings.py" line="241" />
      <source>Outside-line prefix</source>
      <translation>پیش‌شماره خط بیرونی</translation>
    </message>
    <message>
      <location filename="../../callsys/settings.py" line="233" />
      <source>Phone connection</source>
      <translation>اتصال تلفن</translation>
    </message>
    <message>
      <location filename="../../callsys/settings.py" line="436" />
      <source>Phone index refresh (seconds)</source>
      <translation>به‌روزرسانی نمایهٔ شماره‌ها (ثانیه)</translation>
    </message>
    <message>
      <location filename="../../callsys/settings.py" line="370" />
      <source>Prints an access token, e.g. az account get-access-token --resource https://contoso.crm.dynamics.com</source>
      <translation>یک توکن دسترسی چاپ می‌کند، مثلاً az account get-access-token --resource https://contoso.crm.dynamics.com</translation>
    </message>
    <message>
      <location filename="../../callsys/settings.py" line="252" />
      <source>Provider options</source>
      <translation>گزینه‌های اتصال تلفن</translation>
    </message>
    <message>
      <location filename="../../callsys/settings.py" line="351" />
      <source>Records open in this Dynamics 365 app (appid in the record address); empty = the default app</source>
      <translation>رکوردها در این برنامهٔ Dynamics 365 باز می‌شوند (appid در نشانی رکورد)؛ خالی = برنامهٔ پیش‌فرض</translation>
    </message>
    <message>
      <location filename="../../callsys/settings.py" line="600" />
      <source>Reject the ringing call</source>
      <translation>رد تماس در حال زنگ</translation>
    </message>
    <message>
      <location filename="../../callsys/settings.py" line="614" />
      <source>Search the call log</source>
      <translation>جستجو در فهرست تماس‌ها</translation>
    </message>
    <message>
      <location filename="../../callsys/settings.py" line="602" />
      <source>Send the ringing call to voicemail</source>
      <translation>فرستادن تماس در حال زنگ به پست صوتی</translation>
    </message>
    <message>
      <location filename="../../callsys/settings.py" line="529" />
      <source>Settings pushed to desktops</source>
      <translation>تنظیمات ارسالی به رایانه‌های کاربران</translation>
    </message>
    <message>
      <location filename="../../callsys/settings.py" line="573" />
      <source>Shared database (PostgreSQL)</source>
      <translation>پایگاه داده مشترک (PostgreSQL)</translation>
    </message>
    <message>
      <location filename="../../callsys/settings.py" line="616" />
      <source>Show the contacts</source>
      <translation>نمایش مخاطبان</translation>
    </message>
    <message>
      <location filename="../../callsys/settings.py" line="617" />
      <source>Show the dial pad</source>
      <translation>نمایش صفحه شماره‌گیری</translation>
    </message>
    <message>
      <location filename="../../callsys/settings.py" line="564" />
      <source>Shutdown flush time (seconds)</source>
      <translation>زمان تخلیه هنگام خاموشی (ثانیه)</translation>
    </message>
    <message>
      <location filename="../../callsys/settings.py" line="357" />
      <source>Sign-in method</source>
      <translation>روش ورود</translation>
    </message>
    <message>
      <location filename="../../callsys/settings.py" line="338" />
      <source>Sign-in service</source>
      <translation>سرویس ورود</translation>
    </message>
    <message>
      <location filename="../../callsys/settings.py" line="418" />
      <source>Status reason of unanswered calls</source>
      <translation>دلیل وضعیت تماس‌های بی‌پاسخ</translation>
    </message>
    <message>
      <location filename="../../callsys/settings.py" line="548" />
      <source>TLS certificate (PEM)</source>
      <translation>گواهی TLS ‏(PEM)</translation>
    </message>
    <message>
      <location filename="../../callsys/settings.py" line="556" />
      <source>TLS private key file (PEM)</source>
      <translation>فایل کلید خصوصی TLS ‏(PEM)</translation>
    </message>
    <message>
      <location filename="../../callsys/settings.py" line="321" />
      <source>Tenant ID or domain of the organisation (contoso.onmicrosoft.com)</source>
      <translation>شناسه یا دامنهٔ سازمان (contoso.onmicrosoft.com)</translation>
    </message>
    <message>
      <location filename="../../callsys/settings.py" line="728" />
      <source>The desktop checks at start and then this often</source>
      <translation>برنامه هنگام اجرا و سپس با این فاصله بررسی می‌کند</translation>
    </message>
    <message>
      <location filename="../../callsys/settings.py" line="558" />
      <source>The file is named here, never its content</source>
      <translation>اینجا فقط نام فایل می‌آید، هرگز محتوای آن</translation>
    </message>
    <message>
      <location filename="../../callsys/settings.py" line="709" />
      <source>The keys updates must be signed with; empty = resources/update-root.json shipped with callsys</source>
      <translation>کلیدهایی که به‌روزرسانی‌ها باید با آن‌ها امضا شده باشند؛ خالی = resources/update-root.json همراه callsys</translation>
    </message>
    <message>
      <location filename="../../callsys/settings.py" line="701" />
      <source>The organisation's signed update repository (callsys update check); empty = none</source>
      <translation>مخزن امضاشدهٔ به‌روزرسانی‌های سازمان (callsys update check)؛ خالی = هیچ</translation>
    </message>
    <message>
      <location filename="../../callsys/settings.py" line="368" />
      <source>Token command</source>
      <translation>فرمان توکن</translation>
    </message>
    <message>
      <location filename="../../callsys/settings.py" line="375" />
      <source>Token environment variable</source>
      <translation>متغیر محیطی توکن</translation>
    </message>
    <message>
      <location filename="../../callsys/settings.py" line="625" />
      <source>Transfer the call to the consulted party</source>
      <translation>انتقال تماس به طرف مشورت</translation>
    </message>
    <message>
      <location filename="../../callsys/settings.py" line="699" />
      <source>Update feed</source>
      <translation>مخزن به‌روزرسانی</translation>
    </message>
    <message>
      <location filename="../../callsys/settings.py" line="707" />
      <source>Update feed's root.json</source>
      <translation>root.json مخزن به‌روزرسانی</translation>
    </message>
    <message>
      <location filename="../../callsys/settings.py" line="521" />
      <source>Update manifest file</source>
      <translation>فایل فهرست به‌روزرسانی</translation>
    </message>
    <message>
      <location filename="../../callsys/settings.py" line="715" />
      <source>Updates</source>
      <translation>به‌روزرسانی‌ها</translation>
    </message>
    <message>
      <location filename="../../callsys/settings.py" line="279" />
      <source>Which company line a dialled number (DID) belongs to</source>
      <translation>هر شماره گرفته‌شده (DID) به کدام خط شرکت تعلق دارد</translation>
    </message>
    <message>
      <location filename="../../callsys/settings.py" line="661" />
      <source>Which of the hotkeys above also work while another program has the focus</source>
      <translation>کدام یک از کلیدهای میانبر بالا وقتی برنامهٔ دیگری در کانون توجه است هم کار کنند</translation>
    </message>
    <message>
      <location filename="../../callsys/settings.py" line="542" />
      <source>While Dynamics 365 is unreachable, retries back off up to this long</source>
      <translation>تا وقتی Dynamics 365 در دسترس نیست، فاصلهٔ تلاش‌های دوباره تا این مقدار بیشتر می‌شود</translation>
    </message>
    <message>
      <location filename="../../callsys/settings.py" line="507" />
      <source>Whose queue a call's activity lands in, e.g. { "1001" = "&lt;systemuserid&gt;" }</source>
      <translation>فعالیت تماس در صف چه کسی قرار می‌گیرد، مثلاً { "1001" = "&lt;systemuserid&gt;" }</translation>
    </message>
    <message>
      <location filename="../../callsys/settings.py" line="550" />
      <source>With a key file, desktops connect over wss:// — tokens never cross the network in clear text</source>
      <translation>با فایل کلید، میزکارها از راه wss:// وصل می‌شوند — توکن‌ها هرگز بدون رمزنگاری از شبکه نمی‌گذرند</translation>
    </message>
    <message>
      <location filename="../../callsys/settings.py" line="401" />
      <source>[[crm.custom_tables]] logical = "new_patient", entity_set = "new_patients", id = "new_patientid", name = "new_name", phones = ["new_emergencyphone"] (`callsys crm discover` proposes them)</source>
      <translation>[[crm.custom_tables]] logical = "new_patient"، entity_set = "new_patients"، id = "new_patientid"، name = "new_name"، phones = ["new_emergencyphone"] (`callsys crm discover` آن‌ها را پیشنهاد می‌دهد)</translation>
    </message>
    <message>
      <location filename="../../callsys/settings.py" line="717" />
      <source>auto = the desktop checks the update feed, downloads a signed update and installs it when restarted; system = the system's package manager (an apt repository) updates callsys; off = never check</source>
      <translation>auto = برنامه مخزن به‌روزرسانی را بررسی می‌کند، به‌روزرسانی امضاشده را بارگیری می‌کند و هنگام راه‌اندازی دوباره نصب می‌کند؛ system = مدیر بستهٔ سیستم (یک مخزن apt) callsys را به‌روز می‌کند؛ off = هرگز بررسی نشود</translation>
    </message>
    <message>
      <location filename="../../callsys/settings.py" line="587" />
      <source>auto follows the system language</source>
      <translation>auto = زبان سیستم</translation>
    </message>
    <message>
      <location filename="../../callsys/settings.py" line="453" />
      <source>callsys server address</source>
      <translation>نشانی سرور callsys</translation>
    </message>
    <message>
      <location filename="../../callsys/settings.py" line="359" />
      <source>interactive = browser, then device code; client_secret/certificate = server application user; command/env = a token from a command or an environment variable (automation)</source>
      <translation>interactive = مرورگر، سپس کد دستگاه؛ client_secret/certificate = کاربر برنامهٔ سرور؛ command/env = توکن از یک فرمان یا متغیر محیطی (خودکارسازی)</translation>
    </message>
    <message>
      <location filename="../../callsys/settings.py" line="299" />
      <source>local = the built-in directory; dynamics = Microsoft Dynamics 365</source>
      <translation>local = دفترچه داخلی برنامه؛ dynamics = Microsoft Dynamics 365</translation>
    </message>
    <message>
      <location filename="../../callsys/settings.py" line="235" />
      <source>sip = embedded softphone, ami = Asterisk, server = a callsys server, sim = simulator</source>
      <translation>sip = تلفن نرم‌افزاری داخلی، ami = Asterisk، server = سرور callsys، sim = شبیه‌ساز</translation>
    </message>
  </context>
  <context>
    <name>SettingsDialog</name>
    <message>
      <location filename="../../ui/settingsdialog.py" line="887" />
      <source>AMI secret</source>
      <translation>رمز AMI</translation>
    </message>
    <message>
      <location filename="../../ui/settingsdialog.py" line="888" />
      <source>AMI secret:</source>
      <translation>رمز AMI:</translation>
    </message>
    <message>
      <location filename="../../ui/settingsdialog.py" line="1175" />
      <source>Access token for the callsys server</source>
      <translation>توکن دسترسی به سرور callsys</translation>
    </message>
    <message>
      <location filename="../../ui/settingsdialog.py" line="148" />
      <source>Advanced</source>
      <translation>پیشرفته</translation>
    </message>
    <message>
      <location filename="../../ui/settingsdialog.py" line="217" />
      <source>Application with a certificate</source>
      <translation>برنامه با گواهی</translation>
    </message>
    <message>
      <location filename="../../ui/settingsdialog.py" line="216" />
      <source>Application with a client secret</source>
      <translation>برنامه با رمز کلاینت</translation>
    </message>
    <message>
      <location filename="../../ui/settingsdialog.py" line="788" />
      <source>Applies when callsys starts again.</source>
      <translation>با اجرای دوبارهٔ callsys اعمال می‌شود.</translation>
    </message>
    <message>
      <location filename="../../ui/settingsdialog.py" line="150" />
      <source>Audio</source>
      <translation>صدا</translation>
    </message>
    <message>
      <location filename="../../ui/settingsdialog.py" line="212" />
      <source>Built-in directory</source>
      <translation>دفترچهٔ داخلی</translation>
    </message>
    <message>
      <location filename="../../ui/settingsdialog.py" line="145" />
      <source>CRM</source>
      <translation>ارتباط با مشتری (CRM)</translation>
    </message>
    <message>
      <location filename="../../ui/settingsdialog.py" line="934" />
      <source>Client secret</source>
      <translation>رمز کلاینت</translation>
    </message>
    <message>
      <location filename="../../ui/settingsdialog.py" line="936" />
      <source>Client secret:</source>
      <translation>رمز کلاینت:</translation>
    </message>
    <message>
      <location filename="../../ui/settingsdialog.py" line="311" />
      <source>Connected to Dynamics 365 (user {user}).</source>
      <translation>به Dynamics 365 وصل شد (کاربر {user}).</translation>
    </message>
    <message>
      <location filename="../../ui/settingsdialog.py" line="312" />
      <source>Connected to the CRM.</source>
      <translation>به CRM وصل شد.</translation>
    </message>
    <message>
      <location filename="../../ui/settingsdialog.py" line="246" />
      <source>Connected to the phone system.</source>
      <translation>به سیستم تلفن وصل شد.</translation>
    </message>
    <message>
      <location filename="../../ui/settingsdialog.py" line="1241" />
      <source>Correct the fields marked in red first.</source>
      <translation>ابتدا فیلدهای قرمز را اصلاح کنید.</translation>
    </message>
    <message>
      <location filename="../../ui/settingsdialog.py" line="225" />
      <source>Desk phone through Windows telephony (TAPI)</source>
      <translation>تلفن رومیزی از راه تلفن‌داری ویندوز (TAPI)</translation>
    </message>
    <message>
      <location filename="../../ui/settingsdialog.py" line="228" />
      <source>Download signed updates; install on restart</source>
      <translation>بارگیری به‌روزرسانی‌های امضاشده؛ نصب هنگام راه‌اندازی دوباره</translation>
    </message>
    <message>
      <location filename="../../ui/settingsdialog.py" line="221" />
      <source>Embedded softphone (SIP, up to 4 calls)</source>
      <translation>تلفن نرم‌افزاری داخلی (SIP، تا ۴ تماس)</translation>
    </message>
    <message>
      <location filename="../../ui/settingsdialog.py" line="1035" />
      <source>Expected: {what}</source>
      <translation>مقدار مورد انتظار: {what}</translation>
    </message>
    <message>
      <location filename="../../ui/settingsdialog.py" line="229" />
      <source>From the system's package manager</source>
      <translation>از طریق مدیر بستهٔ سیستم</translation>
    </message>
    <message>
      <location filename="../../ui/settingsdialog.py" line="210" />
      <source>Gregorian</source>
      <translation>میلادی</translation>
    </message>
    <message>
      <location filename="../../ui/settingsdialog.py" line="149" />
      <source>Hotkeys</source>
      <translation>کلیدهای میانبر</translation>
    </message>
    <message>
      <location filename="../../ui/settingsdialog.py" line="1058" />
      <source>Ignored when the phone starts:</source>
      <translation>هنگام راه‌اندازی تلفن نادیده گرفته می‌شود:</translation>
    </message>
    <message>
      <location filename="../../ui/settingsdialog.py" line="211" />
      <source>Jalali (Persian)</source>
      <translation>شمسی (جلالی)</translation>
    </message>
    <message>
      <location filename="../../ui/settingsdialog.py" line="940" />
      <source>Kept in the system keyring as “{name}”, never in the settings file.</source>
      <translation>با نام «{name}» در جاکلیدی سیستم نگه داشته می‌شود، هرگز در فایل تنظیمات.</translation>
    </message>
    <message>
      <location filename="../../ui/settingsdialog.py" line="147" />
      <source>Language &amp; appearance</source>
      <translation>زبان و ظاهر</translation>
    </message>
    <message>
      <location filename="../../ui/settingsdialog.py" line="248" />
      <source>Lines: {lines}.</source>
      <translation>خط‌ها: {lines}.</translation>
    </message>
    <message>
      <location filename="../../ui/settingsdialog.py" line="144" />
      <source>Logging rules</source>
      <translation>قواعد ثبت تماس</translation>
    </message>
    <message>
      <location filename="../../ui/settingsdialog.py" line="282" />
      <source>No answer from the phone system within {seconds} seconds.</source>
      <translation>سیستم تلفن در {seconds} ثانیه پاسخی نداد.</translation>
    </message>
    <message>
      <location filename="../../ui/settingsdialog.py" line="660" />
      <source>No program opened {path}.</source>
      <translation>هیچ برنامه‌ای {path} را باز نکرد.</translation>
    </message>
    <message>
      <location filename="../../ui/settingsdialog.py" line="843" />
      <source>Not stored yet</source>
      <translation>هنوز ذخیره نشده</translation>
    </message>
    <message>
      <location filename="../../ui/settingsdialog.py" line="143" />
      <source>Numbers &amp; prefix</source>
      <translation>شماره‌ها و پیش‌شماره</translation>
    </message>
    <message>
      <location filename="../../ui/settingsdialog.py" line="667" />
      <source>OK first keeps a copy of the file in the same folder, then saves the settings shown here:</source>
      <translation>«تأیید» نخست نسخه‌ای از فایل را در همان پوشه نگه می‌دارد، سپس تنظیماتی را که اینجا می‌بینید ذخیره می‌کند:</translation>
    </message>
    <message>
      <location filename="../../ui/settingsdialog.py" line="230" />
      <source>Off</source>
      <translation>خاموش</translation>
    </message>
    <message>
      <location filename="../../ui/settingsdialog.py" line="631" />
      <source>Once it is fixed, start callsys again: it reads the file when it starts.</source>
      <translation>پس از درست کردن آن، callsys را دوباره اجرا کنید: فایل را هنگام شروع می‌خواند.</translation>
    </message>
    <message>
      <location filename="../../ui/settingsdialog.py" line="593" />
      <source>Open its folder</source>
      <translation>باز کردن پوشهٔ آن</translation>
    </message>
    <message>
      <location filename="../../ui/settingsdialog.py" line="589" />
      <source>Open the file</source>
      <translation>باز کردن فایل</translation>
    </message>
    <message>
      <location filename="../../ui/settingsdialog.py" line="142" />
      <source>Phone &amp; lines</source>
      <translation>تلفن و خط‌ها</translation>
    </message>
    <message>
      <location filename="../../ui/settingsdialog.py" line="876" />
      <source>SIP lines:</source>
      <translation>خط‌های SIP:</translation>
    </message>
    <message>
      <location filename="../../ui/settingsdialog.py" line="207" />
      <source>Same as the system</source>
      <translation>مانند سیستم</translation>
    </message>
    <message>
      <location filename="../../ui/settingsdialog.py" line="546" />
      <source>Saved in {path}</source>
      <translation>ذخیره در {path}</translation>
    </message>
    <message>
      <location filename="../../ui/settingsdialog.py" line="146" />
      <source>Server</source>
      <translation>سرور</translation>
    </message>
    <message>
      <location filename="../../ui/settingsdialog.py" line="1173" />
      <source>Server token:</source>
      <translation>توکن سرور:</translation>
    </message>
    <message>
      <location filename="../../ui/settingsdialog.py" line="1138" />
      <source>Set aside for “{provider}” (saved only if it is chosen again): {keys}</source>
      <translation>کنار گذاشته برای «{provider}» (فقط اگر دوباره انتخاب شود ذخیره می‌شود): {keys}</translation>
    </message>
    <message>
      <location filename="../../ui/settingsdialog.py" line="196" />
      <source>Set by the callsys server; it cannot be changed here ({path}).</source>
      <translation>تنظیم‌شده توسط سرور callsys؛ این‌جا قابل تغییر نیست ({path}).</translation>
    </message>
    <message>
      <location filename="../../ui/settingsdialog.py" line="199" />
      <source>Set by this computer's administrator; it cannot be changed here ({path}).</source>
      <translation>تنظیم‌شده توسط مدیر این رایانه؛ این‌جا قابل تغییر نیست ({path}).</translation>
    </message>
    <message>
      <location filename="../../ui/settingsdialog.py" line="192" />
      <source>Set by your organisation's installer; it cannot be changed here ({path}).</source>
      <translation>تنظیم‌شده در نصب‌کنندهٔ سازمان شما؛ این‌جا قابل تغییر نیست ({path}).</translation>
    </message>
    <message>
      <location filename="../../ui/settingsdialog.py" line="495" />
      <source>Setting groups</source>
      <translation>گروه‌های تنظیمات</translation>
    </message>
    <message>
      <location filename="../../ui/settingsdialog.py" line="486" />
      <source>Settings</source>
      <translation>تنظیمات</translation>
    </message>
    <message>
      <location filename="../../ui/settingsdialog.py" line="215" />
      <source>Sign in with a code</source>
      <translation>ورود با کد</translation>
    </message>
    <message>
      <location filename="../../ui/settingsdialog.py" line="214" />
      <source>Sign in with the browser</source>
      <translation>ورود با مرورگر</translation>
    </message>
    <message>
      <location filename="../../ui/settingsdialog.py" line="220" />
      <source>Simulated phone system (demo)</source>
      <translation>سامانهٔ تلفن شبیه‌سازی‌شده (نمایشی)</translation>
    </message>
    <message>
      <location filename="../../ui/settingsdialog.py" line="597" />
      <source>Start from the defaults (a copy of the file is kept)</source>
      <translation>شروع از پیش‌فرض‌ها (یک نسخه از فایل نگه داشته می‌شود)</translation>
    </message>
    <message>
      <location filename="../../ui/settingsdialog.py" line="841" />
      <source>Stored in the system keyring — type to replace</source>
      <translation>در جاکلیدی سیستم ذخیره شده است — برای جایگزینی تایپ کنید</translation>
    </message>
    <message>
      <location filename="../../ui/settingsdialog.py" line="1202" />
      <source>TAPI (Windows telephony) exists only on Windows: on this computer, use the embedded softphone or Asterisk (AMI) instead.</source>
      <translation>TAPI (تلفن‌داری ویندوز) فقط در ویندوز هست: در این رایانه به جای آن از تلفن نرم‌افزاری داخلی یا Asterisk (AMI) استفاده کنید.</translation>
    </message>
    <message>
      <location filename="../../ui/settingsdialog.py" line="883" />
      <source>TAPI lines:</source>
      <translation>خط‌های TAPI:</translation>
    </message>
    <message>
      <location filename="../../ui/settingsdialog.py" line="955" />
      <source>Test connection</source>
      <translation>آزمایش اتصال</translation>
    </message>
    <message>
      <location filename="../../ui/settingsdialog.py" line="948" />
      <source>Test the CRM connection</source>
      <translation>آزمایش اتصال CRM</translation>
    </message>
    <message>
      <location filename="../../ui/settingsdialog.py" line="897" />
      <source>Test the phone system connection</source>
      <translation>آزمایش اتصال سیستم تلفن</translation>
    </message>
    <message>
      <location filename="../../ui/settingsdialog.py" line="1324" />
      <source>Testing…</source>
      <translation>در حال آزمایش…</translation>
    </message>
    <message>
      <location filename="../../ui/settingsdialog.py" line="302" />
      <source>The built-in directory needs no connection.</source>
      <translation>دفترچهٔ داخلی به اتصال نیازی ندارد.</translation>
    </message>
    <message>
      <location filename="../../ui/settingsdialog.py" line="292" />
      <source>The phone system did not accept the connection: {why}</source>
      <translation>سیستم تلفن اتصال را نپذیرفت: {why}</translation>
    </message>
    <message>
      <location filename="../../ui/settingsdialog.py" line="624" />
      <source>The settings file could not be read, so the fields below show the defaults, not your settings. Nothing is written over the file until you fix it or choose to start from the defaults.</source>
      <translation>فایل تنظیمات خوانده نشد؛ برای همین فیلدهای زیر مقدارهای پیش‌فرض را نشان می‌دهند، نه تنظیمات شما را. تا فایل را درست نکنید یا شروع از پیش‌فرض‌ها را برنگزینید، چیزی روی آن نوشته نمی‌شود.</translation>
    </message>
    <message>
      <location filename="../../ui/settingsdialog.py" line="1294" />
      <source>The settings were not saved: {why}</source>
      <translation>تنظیمات ذخیره نشد: {why}</translation>
    </message>
    <message>
      <location filename="../../ui/settingsdialog.py" line="1352" />
      <source>The softphone is running, and only one can run at a time: save the settings to restart it with them; the status bar then shows whether each line registers.</source>
      <translation>تلفن نرم‌افزاری در حال اجراست و هم‌زمان فقط یکی می‌تواند اجرا شود: تنظیمات را ذخیره کنید تا با آن‌ها دوباره راه‌اندازی شود؛ سپس نوار وضعیت نشان می‌دهد هر خط ثبت می‌شود یا نه.</translation>
    </message>
    <message>
      <location filename="../../ui/settingsdialog.py" line="218" />
      <source>Token from a command</source>
      <translation>توکن از یک فرمان</translation>
    </message>
    <message>
      <location filename="../../ui/settingsdialog.py" line="219" />
      <source>Token from an environment variable</source>
      <translation>توکن از یک متغیر محیطی</translation>
    </message>
    <message>
      <location filename="../../ui/settingsdialog.py" line="1196" />
      <source>Windows telephony (TAPI) offers no lines: the phone system's TAPI driver (TSP) is not installed, or it gives this Windows user no line. Install the vendor's TSP, then check Control Panel → Phone and Modem → Advanced.</source>
      <translation>تلفن‌داری ویندوز (TAPI) هیچ خطی ندارد: درایور TAPI سیستم تلفن (TSP) نصب نیست، یا به این کاربر ویندوز خطی نمی‌دهد. TSP سازنده را نصب کنید، سپس در Control Panel → Phone and Modem → Advanced آن را بررسی کنید.</translation>
    </message>
    <message>
      <location filename="../../ui/settingsdialog.py" line="165" />
      <source>a URL</source>
      <translation>یک نشانی اینترنتی</translation>
    </message>
    <message>
      <location filename="../../ui/settingsdialog.py" line="172" />
      <source>a key combination such as "Ctrl+Shift+A" (or empty for none)</source>
      <translation>یک ترکیب کلید مانند "Ctrl+Shift+A" (یا خالی برای هیچ)</translation>
    </message>
    <message>
      <location filename="../../ui/settingsdialog.py" line="175" />
      <source>a two-letter country code such as "IR", "DE" or "US"</source>
      <translation>کد دوحرفی کشور مانند "IR"، "DE" یا "US"</translation>
    </message>
    <message>
      <location filename="../../ui/settingsdialog.py" line="977" />
      <source>a valid value</source>
      <translation>یک مقدار معتبر</translation>
    </message>
    <message>
      <location filename="../../ui/settingsdialog.py" line="167" />
      <source>a whole number</source>
      <translation>یک عدد صحیح</translation>
    </message>
    <message>
      <location filename="../../ui/settingsdialog.py" line="159" />
      <source>a whole number from {low} to {high}</source>
      <translation>یک عدد صحیح از {low} تا {high}</translation>
    </message>
    <message>
      <location filename="../../ui/settingsdialog.py" line="166" />
      <source>an http(s):// or ws(s):// URL</source>
      <translation>یک نشانی http(s)://‎ یا ws(s)://‎</translation>
    </message>
    <message>
      <location filename="../../ui/settingsdialog.py" line="222" />
      <source>callsys server (calls and logging from a central server)</source>
      <translation>سرور callsys (تماس‌ها و ثبت از یک سرور مرکزی)</translation>
    </message>
    <message>
      <location filename="../../ui/settingsdialog.py" line="995" />
      <source>no audio devices here: they are chosen on the Audio tab</source>
      <translation>دستگاه‌های صوتی اینجا نه: آن‌ها در زبانه‌ی «صدا» انتخاب می‌شوند</translation>
    </message>
    <message>
      <location filename="../../ui/settingsdialog.py" line="1348" />
      <source>no line is up</source>
      <translation>هیچ خطی برقرار نیست</translation>
    </message>
    <message>
      <location filename="../../ui/settingsdialog.py" line="377" />
      <source>no password here (“{key}”): passwords go in the password fields, which keep them in the system keyring</source>
      <translation>رمز اینجا نه («{key}»): رمزها در فیلدهای رمز وارد می‌شوند که آن‌ها را در جاکلیدی سیستم نگه می‌دارند</translation>
    </message>
    <message>
      <location filename="../../ui/settingsdialog.py" line="988" />
      <source>no “lines” here: the SIP lines are edited in the list below</source>
      <translation>«lines» اینجا نه: خط‌های SIP در فهرست پایین ویرایش می‌شوند</translation>
    </message>
    <message>
      <location filename="../../ui/settingsdialog.py" line="164" />
      <source>text</source>
      <translation>متن</translation>
    </message>
    <message>
      <location filename="../../ui/settingsdialog.py" line="163" />
      <source>true or false</source>
      <translation>درست یا نادرست</translation>
    </message>
    <message>
      <location filename="../../ui/settingsdialog.py" line="169" />
      <source>up to 5 digits, without the leading 0</source>
      <translation>حداکثر ۵ رقم، بدون صفر ابتدایی</translation>
    </message>
    <message>
      <location filename="../../ui/settingsdialog.py" line="168" />
      <source>up to 6 digits, * or #</source>
      <translation>حداکثر ۶ رقم، * یا #</translation>
    </message>
    <message>
      <location filename="../../ui/settingsdialog.py" line="1077" />
      <source>“{first}” and “{second}” both use {key}.</source>
      <translation>«{first}» و «{second}» هر دو از {key} استفاده می‌کنند.</translation>
    </message>
    <message>
      <location filename="../../ui/settingsdialog.py" line="255" />
      <source>“{line}” is a direct line: it needs no registrar, and the phone takes its calls on {address}.</source>
      <translation>«{line}» خط مستقیم است: به سرور ثبت نیازی ندارد و تلفن تماس‌هایش را روی {address} می‌گیرد.</translation>
    </message>
    <message>
      <location filename="../../ui/settingsdialog.py" line="264" />
      <source>“{line}” is not registered: {why}</source>
      <translation>«{line}» ثبت نشده است: {why}</translation>
    </message>
    <message>
      <location filename="../../ui/settingsdialog.py" line="261" />
      <source>“{line}” is registered.</source>
      <translation>«{line}» ثبت شده است.</translation>
    </message>
  </context>
  <context>
    <name>SipLines</name>
    <message>
      <location filename="../../ui/siplines.py" line="191" />
      <source>&amp;Add a line</source>
      <translation>&amp;افزودن خط</translation>
    </message>
    <message>
      <location filename="../../ui/siplines.py" line="255" />
      <source>&amp;Default line for outgoing calls</source>
      <translation>خط &amp;پیش‌فرض برای تماس‌های خروجی</translation>
    </message>
    <message>
      <location filename="../../ui/siplines.py" line="281" />
      <source>(default)</source>
      <translation>(پیش‌فرض)</translation>
    </message>
    <message>
      <location filename="../../ui/siplines.py" line="420" />
      <source>A direct line does not register: no password</source>
      <translation>خط مستقیم ثبت نمی‌شود: بی‌گذرواژه</translation>
    </message>
    <message>
      <location filename="../../ui/siplines.py" line="83" />
      <source>Authentication user</source>
      <translation>کاربر احراز هویت</translation>
    </message>
    <message>
      <location filename="../../ui/siplines.py" line="92" />
      <source>Check the server's TLS certificate</source>
      <translation>بررسی گواهی TLS سرور</translation>
    </message>
    <message>
      <location filename="../../ui/siplines.py" line="94" />
      <source>Client certificate (PEM)</source>
      <translation>گواهی کلاینت (PEM)</translation>
    </message>
    <message>
      <location filename="../../ui/siplines.py" line="257" />
      <source>Default line for outgoing calls</source>
      <translation>خط پیش‌فرض برای تماس‌های خروجی</translation>
    </message>
    <message>
      <location filename="../../ui/siplines.py" line="89" />
      <source>Display name</source>
      <translation>نام نمایشی</translation>
    </message>
    <message>
      <location filename="../../ui/siplines.py" line="87" />
      <source>Domain</source>
      <translation>دامنه</translation>
    </message>
    <message>
      <location filename="../../ui/siplines.py" line="132" />
      <source>Empty = USER@DOMAIN</source>
      <translation>خالی = ⁦USER@DOMAIN⁩</translation>
    </message>
    <message>
      <location filename="../../ui/siplines.py" line="136" />
      <source>Empty = in the certificate file</source>
      <translation>خالی = درون پروندهٔ گواهی</translation>
    </message>
    <message>
      <location filename="../../ui/siplines.py" line="133" />
      <source>Empty = the registrar's host</source>
      <translation>خالی = میزبان سرور ثبت</translation>
    </message>
    <message>
      <location filename="../../ui/siplines.py" line="134" />
      <source>Empty = the system's list</source>
      <translation>خالی = فهرست سیستم</translation>
    </message>
    <message>
      <location filename="../../ui/siplines.py" line="131" />
      <source>Empty = the user</source>
      <translation>خالی = همان کاربر</translation>
    </message>
    <message>
      <location filename="../../ui/siplines.py" line="97" />
      <source>Encrypted audio (SRTP)</source>
      <translation>صدای رمزگذاری‌شده (SRTP)</translation>
    </message>
    <message>
      <location filename="../../ui/siplines.py" line="80" />
      <source>Label</source>
      <translation>عنوان</translation>
    </message>
    <message>
      <location filename="../../ui/siplines.py" line="86" />
      <source>Line id</source>
      <translation>شناسهٔ خط</translation>
    </message>
    <message>
      <location filename="../../ui/siplines.py" line="107" />
      <source>Mandatory (refuse calls without it)</source>
      <translation>اجباری (تماس‌های بدون آن رد می‌شوند)</translation>
    </message>
    <message>
      <location filename="../../ui/siplines.py" line="279" />
      <source>New line</source>
      <translation>خط تازه</translation>
    </message>
    <message>
      <location filename="../../ui/siplines.py" line="113" />
      <source>No (keys also over UDP or TCP)</source>
      <translation>خیر (کلیدها روی UDP یا TCP هم فرستاده می‌شوند)</translation>
    </message>
    <message>
      <location filename="../../ui/siplines.py" line="105" />
      <source>Off</source>
      <translation>خاموش</translation>
    </message>
    <message>
      <location filename="../../ui/siplines.py" line="135" />
      <source>Only for a server that asks for one</source>
      <translation>فقط برای سروری که آن را بخواهد</translation>
    </message>
    <message>
      <location filename="../../ui/siplines.py" line="106" />
      <source>Optional (plain audio too)</source>
      <translation>اختیاری (صدای رمزنشده هم پذیرفته می‌شود)</translation>
    </message>
    <message>
      <location filename="../../ui/siplines.py" line="88" />
      <source>Outbound proxy</source>
      <translation>پراکسی خروجی</translation>
    </message>
    <message>
      <location filename="../../ui/siplines.py" line="84" />
      <source>Password</source>
      <translation>گذرواژه</translation>
    </message>
    <message>
      <location filename="../../ui/siplines.py" line="95" />
      <source>Private key of the client certificate (PEM)</source>
      <translation>کلید خصوصی گواهی کلاینت (PEM)</translation>
    </message>
    <message>
      <location filename="../../ui/siplines.py" line="192" />
      <source>Re&amp;move the line</source>
      <translation>&amp;حذف خط</translation>
    </message>
    <message>
      <location filename="../../ui/siplines.py" line="90" />
      <source>Re-register every (seconds)</source>
      <translation>ثبت دوباره هر (ثانیه)</translation>
    </message>
    <message>
      <location filename="../../ui/siplines.py" line="81" />
      <source>Registrar</source>
      <translation>سرور ثبت (Registrar)</translation>
    </message>
    <message>
      <location filename="../../ui/siplines.py" line="187" />
      <source>SIP lines</source>
      <translation>خط‌های SIP</translation>
    </message>
    <message>
      <location filename="../../ui/siplines.py" line="98" />
      <source>SRTP only with secure signalling</source>
      <translation>SRTP فقط با سیگنالینگ امن</translation>
    </message>
    <message>
      <location filename="../../ui/siplines.py" line="115" />
      <source>TLS end to end (sips:)</source>
      <translation>TLS سرتاسری (sips:)</translation>
    </message>
    <message>
      <location filename="../../ui/siplines.py" line="114" />
      <source>TLS to the server</source>
      <translation>TLS تا سرور</translation>
    </message>
    <message>
      <location filename="../../ui/siplines.py" line="96" />
      <source>Take calls only from the registrar or proxy</source>
      <translation>پذیرش تماس فقط از سرور ثبت یا پراکسی</translation>
    </message>
    <message>
      <location filename="../../ui/siplines.py" line="85" />
      <source>Transport</source>
      <translation>پروتکل انتقال</translation>
    </message>
    <message>
      <location filename="../../ui/siplines.py" line="93" />
      <source>Trusted CA file (PEM)</source>
      <translation>پروندهٔ CAهای مورد اعتماد (PEM)</translation>
    </message>
    <message>
      <location filename="../../ui/siplines.py" line="82" />
      <source>User</source>
      <translation>کاربر</translation>
    </message>
    <message>
      <location filename="../../ui/siplines.py" line="91" />
      <source>Voicemail address</source>
      <translation>نشانی پست صوتی</translation>
    </message>
    <message>
      <location filename="../../ui/siplines.py" line="137" />
      <source>sip:*97@pbx.example.com, or *97</source>
      <translation>‏⁦sip:*97@pbx.example.com⁩ یا ⁦*97⁩</translation>
    </message>
    <message>
      <location filename="../../ui/siplines.py" line="128" />
      <source>sip:pbx.example.com — empty for a direct line that does not register</source>
      <translation>‏⁦sip:pbx.example.com⁩ — برای خط مستقیمی که ثبت نمی‌شود خالی بگذارید</translation>
    </message>
    <message>
      <location filename="../../ui/siplines.py" line="467" />
      <source>{why} (line “{line}”)</source>
      <translation>{why} (خط «{line}»)</translation>
    </message>
  </context>
  <context>
    <name>Texts</name>
    <message>
      <location filename="../../ui/texts.py" line="66" />
      <source>Account</source>
      <translation>حساب</translation>
    </message>
    <message>
      <location filename="../../ui/texts.py" line="94" />
      <source>Address</source>
      <translation>نشانی</translation>
    </message>
    <message>
      <location filename="../../ui/texts.py" line="41" />
      <source>Answered</source>
      <translation>پاسخ‌داده‌شده</translation>
    </message>
    <message>
      <location filename="../../ui/texts.py" line="55" />
      <source>Answered elsewhere</source>
      <translation>پاسخ در جای دیگر</translation>
    </message>
    <message>
      <location filename="../../ui/texts.py" line="51" />
      <source>Busy</source>
      <translation>مشغول</translation>
    </message>
    <message>
      <location filename="../../ui/texts.py" line="49" />
      <source>Caller hung up</source>
      <translation>تماس‌گیرنده قطع کرد</translation>
    </message>
    <message>
      <location filename="../../ui/texts.py" line="49" />
      <source>Cancelled</source>
      <translation>لغوشده</translation>
    </message>
    <message>
      <location filename="../../ui/texts.py" line="30" />
      <source>Connected</source>
      <translation>برقرار</translation>
    </message>
    <message>
      <location filename="../../ui/texts.py" line="64" />
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
      <location filename="../../ui/texts.py" line="57" />
      <source>Failed</source>
      <translation>ناموفق</translation>
    </message>
    <message>
      <location filename="../../ui/texts.py" line="90" />
      <source>Fax</source>
      <translation>نمابر</translation>
    </message>
    <message>
      <location filename="../../ui/texts.py" line="88" />
      <source>Home</source>
      <translation>منزل</translation>
    </message>
    <message>
      <location filename="../../ui/texts.py" line="18" />
      <source>Incoming</source>
      <translation>ورودی</translation>
    </message>
    <message>
      <location filename="../../ui/texts.py" line="68" />
      <source>Lead</source>
      <translation>سرنخ</translation>
    </message>
    <message>
      <location filename="../../ui/texts.py" line="86" />
      <source>Main</source>
      <translation>اصلی</translation>
    </message>
    <message>
      <location filename="../../ui/texts.py" line="84" />
      <source>Mobile</source>
      <translation>همراه</translation>
    </message>
    <message>
      <location filename="../../ui/texts.py" line="53" />
      <source>No answer</source>
      <translation>پاسخ نداد</translation>
    </message>
    <message>
      <location filename="../../ui/texts.py" line="114" />
      <source>No device for the ringtone: incoming calls ring silently.</source>
      <translation>دستگاهی برای زنگ نیست: تماس‌های ورودی بی‌صدا زنگ می‌خورند.</translation>
    </message>
    <message>
      <location filename="../../ui/texts.py" line="104" />
      <source>No microphone and no speaker: calls connect, but nobody hears anything. Connect a headset, or choose the devices in Settings → Audio.</source>
      <translation>نه میکروفون هست و نه بلندگو: تماس‌ها برقرار می‌شوند، اما هیچ‌کس صدایی نمی‌شنود. یک هدست وصل کنید، یا دستگاه‌ها را در تنظیمات ← صدا انتخاب کنید.</translation>
    </message>
    <message>
      <location filename="../../ui/texts.py" line="110" />
      <source>No microphone: the other side of a call hears nothing.</source>
      <translation>میکروفون نیست: طرف دیگر تماس چیزی نمی‌شنود.</translation>
    </message>
    <message>
      <location filename="../../ui/texts.py" line="112" />
      <source>No speaker: you cannot hear the other side of a call.</source>
      <translation>بلندگو نیست: صدای طرف دیگر تماس را نمی‌شنوید.</translation>
    </message>
    <message>
      <location filename="../../ui/texts.py" line="32" />
      <source>On hold</source>
      <translation>نگه‌داشته‌شده</translation>
    </message>
    <message>
      <location filename="../../ui/texts.py" line="95" />
      <source>Other</source>
      <translation>دیگر</translation>
    </message>
    <message>
      <location filename="../../ui/texts.py" line="17" />
      <source>Outgoing</source>
      <translation>خروجی</translation>
    </message>
    <message>
      <location filename="../../ui/texts.py" line="92" />
      <source>Pager</source>
      <translation>پیجر</translation>
    </message>
    <message>
      <location filename="../../ui/texts.py" line="71" />
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
      <location filename="../../ui/texts.py" line="47" />
      <source>Sent to voicemail</source>
      <translation>به پست صوتی فرستاده شد</translation>
    </message>
    <message>
      <location filename="../../ui/texts.py" line="43" />
      <source>Unanswered</source>
      <translation>بی پاسخ</translation>
    </message>
    <message>
      <location filename="../../ui/texts.py" line="70" />
      <source>User</source>
      <translation>کاربر</translation>
    </message>
    <message>
      <location filename="../../ui/texts.py" line="86" />
      <source>Work</source>
      <translation>محل کار</translation>
    </message>
  </context>
  <context>
    <name>Tray</name>
    <message>
      <location filename="../../ui/tray.py" line="110" />
      <source>&amp;Quit</source>
      <translation>&amp;خروج</translation>
    </message>
    <message>
      <location filename="../../ui/tray.py" line="109" />
      <source>&amp;Show callsys</source>
      <translation>&amp;نمایش callsys</translation>
    </message>
    <message>
      <location filename="../../ui/tray.py" line="90" />
      <source>Incoming call</source>
      <translation>تماس ورودی</translation>
    </message>
    <message>
      <location filename="../../ui/tray.py" line="91" />
      <source>Unknown caller</source>
      <translation>تماس‌گیرنده ناشناس</translation>
    </message>
    <message>
      <location filename="../../ui/tray.py" line="90" />
      <source>Waiting call</source>
      <translation>تماس در انتظار</translation>
    </message>
  </context>
  <context>
    <name>Updates</name>
    <message>
      <location filename="../../ui/updater.py" line="268" />
      <source>Cancel</source>
      <translation>لغو</translation>
    </message>
    <message>
      <location filename="../../ui/updater.py" line="269" />
      <source>Cancel the update's download</source>
      <translation>لغو بارگیری به‌روزرسانی</translation>
    </message>
    <message>
      <location filename="../../ui/updater.py" line="287" />
      <source>Downloading version {version}…</source>
      <translation>در حال بارگیری نسخهٔ {version}…</translation>
    </message>
    <message>
      <location filename="../../ui/updater.py" line="293" />
      <source>No update: {why}</source>
      <translation>به‌روزرسانی انجام نشد: {why}</translation>
    </message>
    <message>
      <location filename="../../ui/updater.py" line="270" />
      <source>Restart to update</source>
      <translation>راه‌اندازی دوباره برای به‌روزرسانی</translation>
    </message>
    <message>
      <location filename="../../ui/updater.py" line="271" />
      <source>Update download</source>
      <translation>بارگیری به‌روزرسانی</translation>
    </message>
    <message>
      <location filename="../../ui/updater.py" line="289" />
      <source>Version {version} is ready — restart to update</source>
      <translation>نسخهٔ {version} آماده است — برای به‌روزرسانی دوباره راه‌اندازی کنید</translation>
    </message>
    <message>
      <location filename="../../ui/updater.py" line="302" />
      <source>callsys is updated by the system's package manager.</source>
      <translation>callsys توسط مدیر بستهٔ سیستم به‌روز می‌شود.</translation>
    </message>
    <message>
      <location filename="../../ui/updater.py" line="279" />
      <source>{percent}% downloaded</source>
      <translation>{percent}٪ بارگیری شد</translation>
    </message>
  </context>
</TS>
