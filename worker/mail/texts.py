"""The buyer's e-mail texts in Kazakh, Russian and English, and the seller's requisites.

`{placeholders}` are filled by messages.py; every language has the same keys (a test checks).
"""

from __future__ import annotations

from worker.orders.model import Lang

# Public offer, "Seller Requisites" and "Support Service".
SELLER_IIN = "910109301239"
SUPPORT_WHATSAPP = "+7 705 454 49 65"
SUPPORT_WHATSAPP_URL = "https://wa.me/77054544965"

TEXTS: dict[Lang, dict[str, str]] = {
    "en": {
        "subject_delivery": "Your eSIM is ready: {package} (order {order_id})",
        "subject_failed": "Order {order_id}: we could not issue your eSIM, your money will be refunded",
        "greeting": "Hello!",
        "ready": "Your eSIM is ready. Scan this QR code with the phone on which you will use "
        "the eSIM. Install it before your trip, while you are on Wi-Fi.",
        "qr_tip": "A phone cannot scan a QR code shown on its own screen: open this e-mail on "
        "another screen or print it, or use the link or the codes below.",
        "ios_title": "iPhone (iOS 17.4 or later): install in one tap",
        "ios_button": "Install the eSIM on this iPhone",
        "manual_title": "Install manually",
        "smdp": "SM-DP+ address",
        "activation_code": "Activation code",
        "ios_steps": "iPhone: Settings → Mobile Service → Add eSIM → Use QR Code → "
        "Enter Details Manually.",
        "android_steps": "Android: Settings → Network & internet → SIMs → Add SIM (or “Download "
        "a SIM instead”) → scan the QR code, or choose “Need help?” → “Enter it manually” and "
        "type the activation code. Samsung: Settings → Connections → SIM manager → Add eSIM.",
        "arrival": "On arrival, choose this eSIM for mobile data and turn on data roaming for it.",
        "validity": "Valid until {expires}.",
        "warning": "Important: do not delete the eSIM from your phone. A deleted eSIM cannot be "
        "installed again from the same QR code, and deleting it ends the service without a "
        "refund (public offer, clause 5.3).",
        "order_page": "Your order page (QR code, status and data used):",
        "failed_body": "We received your payment of {amount} for “{package}”, but the eSIM "
        "operator could not issue the profile. This is not your fault.",
        "failed_next": "What happens next: our support team has been alerted and will contact "
        "you within one business day. You will get a full refund to your card (public offer, "
        "clause 5.4) or, if you prefer, a new eSIM. You do not need to do anything now.",
        "failed_refund_time": "After the refund, banks usually return the money to the card "
        "within 3–10 business days.",
        "receipt_title": "Receipt",
        "order_number": "Order number",
        "date": "Paid on",
        "package": "Package",
        "amount_paid": "Amount paid",
        "payment_reference": "Epay reference (RRN)",
        "card": "Card",
        "seller": "Seller",
        "seller_name": 'IE "Islambakiyev Sh.A."',
        "iin": "IIN",
        "support": "Questions? Write to us on WhatsApp {whatsapp} or to {email}.",
        "closing": "Have a good trip! Qazaq eSIM",
    },
    "ru": {
        "subject_delivery": "Ваша eSIM готова: {package} (заказ {order_id})",
        "subject_failed": "Заказ {order_id}: не удалось выпустить eSIM, мы вернём деньги",
        "greeting": "Здравствуйте!",
        "ready": "Ваша eSIM готова. Отсканируйте этот QR-код телефоном, на котором будете "
        "пользоваться eSIM. Установите её до поездки, пока вы подключены к Wi-Fi.",
        "qr_tip": "Телефон не может отсканировать QR-код со своего же экрана: откройте письмо "
        "на другом экране или распечатайте его либо воспользуйтесь ссылкой или кодами ниже.",
        "ios_title": "iPhone (iOS 17.4 и новее): установка в одно касание",
        "ios_button": "Установить eSIM на этот iPhone",
        "manual_title": "Установка вручную",
        "smdp": "Адрес SM-DP+",
        "activation_code": "Код активации",
        "ios_steps": "iPhone: Настройки → Сотовая связь → Добавить eSIM → Использовать QR-код → "
        "Ввести данные вручную.",
        "android_steps": "Android: Настройки → Сеть и интернет → SIM-карты → Добавить SIM (или "
        "«Скачать SIM-карту») → отсканируйте QR-код либо выберите «Нужна помощь?» → «Ввести "
        "вручную» и введите код активации. Samsung: Настройки → Подключения → Диспетчер "
        "SIM-карт → Добавить eSIM.",
        "arrival": "По прибытии выберите эту eSIM для мобильных данных и включите для неё "
        "роуминг данных.",
        "validity": "Действует до {expires}.",
        "warning": "Важно: не удаляйте eSIM с телефона. Удалённую eSIM нельзя установить "
        "повторно по тому же QR-коду, а её удаление означает отказ от услуги без возврата "
        "денег (публичная оферта, п. 5.3).",
        "order_page": "Страница заказа (QR-код, статус и израсходованный трафик):",
        "failed_body": "Мы получили оплату {amount} за «{package}», но оператор eSIM не смог "
        "выпустить профиль. Вашей вины в этом нет.",
        "failed_next": "Что будет дальше: наша поддержка уже получила уведомление и свяжется с "
        "вами в течение одного рабочего дня. Мы полностью вернём деньги на карту (публичная "
        "оферта, п. 5.4) или, если хотите, выпустим новую eSIM. Сейчас ничего делать не нужно.",
        "failed_refund_time": "После возврата банк обычно зачисляет деньги на карту в течение "
        "3–10 рабочих дней.",
        "receipt_title": "Чек",
        "order_number": "Номер заказа",
        "date": "Дата оплаты",
        "package": "Пакет",
        "amount_paid": "Оплачено",
        "payment_reference": "Референс Epay (RRN)",
        "card": "Карта",
        "seller": "Продавец",
        "seller_name": "ИП «Islambakiyev Sh.A.»",
        "iin": "ИИН",
        "support": "Есть вопросы? Напишите нам в WhatsApp {whatsapp} или на {email}.",
        "closing": "Хорошей поездки! Qazaq eSIM",
    },
    "kk": {
        "subject_delivery": "eSIM дайын: {package} (тапсырыс {order_id})",
        "subject_failed": "Тапсырыс {order_id}: eSIM шығару мүмкін болмады, ақшаңыз қайтарылады",
        "greeting": "Сәлеметсіз бе!",
        "ready": "Сіздің eSIM дайын. Бұл QR кодты eSIM қолданатын телефонмен сканерлеңіз. "
        "eSIM-ді сапарға дейін, Wi-Fi желісіне қосулы кезде орнатыңыз.",
        "qr_tip": "Телефон өз экранындағы QR кодты сканерлей алмайды: хатты басқа экранда "
        "ашыңыз не басып шығарыңыз, немесе төмендегі сілтемені не кодтарды пайдаланыңыз.",
        "ios_title": "iPhone (iOS 17.4 және жаңарақ): бір түртумен орнату",
        "ios_button": "eSIM-ді осы iPhone-ға орнату",
        "manual_title": "Қолмен орнату",
        "smdp": "SM-DP+ мекенжайы",
        "activation_code": "Белсендіру коды",
        "ios_steps": "iPhone: Параметрлер → Ұялы байланыс → eSIM қосу → QR кодты пайдалану → "
        "Деректерді қолмен енгізу.",
        "android_steps": "Android: Параметрлер → Желі және интернет → SIM карталар → SIM қосу → "
        "QR кодты сканерлеңіз немесе «Көмек керек пе?» → «Қолмен енгізу» таңдап, белсендіру "
        "кодын енгізіңіз. Samsung: Параметрлер → Қосылымдар → SIM менеджері → eSIM қосу.",
        "arrival": "Барған жеріңізде мобильді деректер үшін осы eSIM-ді таңдап, оған деректер "
        "роумингін қосыңыз.",
        "validity": "Жарамдылық мерзімі: {expires} дейін.",
        "warning": "Маңызды: eSIM-ді телефоннан өшірмеңіз. Өшірілген eSIM-ді сол QR кодпен "
        "қайта орнату мүмкін емес, ал оны өшіру ақшасы қайтарылмайтын қызметтен бас тарту "
        "болып саналады (жария оферта, 5.3-тармақ).",
        "order_page": "Тапсырыс беті (QR код, мәртебе және пайдаланылған трафик):",
        "failed_body": "Біз «{package}» үшін {amount} төлемін алдық, бірақ eSIM операторы "
        "профильді шығара алмады. Бұған сіз кінәлі емессіз.",
        "failed_next": "Әрі қарай не болады: қолдау қызметі хабарлама алды және бір жұмыс күні "
        "ішінде сізбен байланысады. Ақшаңыз картаға толық қайтарылады (жария оферта, "
        "5.4-тармақ) немесе қаласаңыз, жаңа eSIM шығарамыз. Қазір ештеңе істеудің қажеті жоқ.",
        "failed_refund_time": "Қайтарылғаннан кейін банк әдетте ақшаны 3–10 жұмыс күні ішінде "
        "картаға түсіреді.",
        "receipt_title": "Түбіртек",
        "order_number": "Тапсырыс нөмірі",
        "date": "Төлем күні",
        "package": "Пакет",
        "amount_paid": "Төленді",
        "payment_reference": "Epay референсі (RRN)",
        "card": "Карта",
        "seller": "Сатушы",
        "seller_name": "ЖК «Islambakiyev Sh.A.»",
        "iin": "ЖСН",
        "support": "Сұрақтар бар ма? WhatsApp {whatsapp} немесе {email} арқылы жазыңыз.",
        "closing": "Сапарыңыз сәтті болсын! Qazaq eSIM",
    },
}
