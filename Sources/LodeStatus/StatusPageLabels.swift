import LodeEvents
import LodeProjections
import LodeWorker

/// The words of the status page in one language; the report's own words come from
/// ``ReportLabels``. Queue names (`lode.work`), ids and commands stay as they are typed.
struct StatusPageLabels: Sendable {
    let language: ZoneLanguage
    let report: ReportLabels

    init(_ language: ZoneLanguage) {
        self.language = language
        self.report = .of(language)
    }

    private func pick(_ hans: String, _ hant: String, _ english: String) -> String {
        switch language {
        case .simplifiedChinese: hans
        case .traditionalChinese: hant
        case .english: english
        }
    }

    /// The `lang` attribute of the page.
    var htmlLanguage: String { language.rawValue }
    var asOf: String { pick("更新于", "更新於", "as of") }
    func refreshes(_ seconds: Int) -> String { pick("每 \(seconds) 秒刷新", "每 \(seconds) 秒重新整理", "refreshes every \(seconds) s") }

    var queues: String { pick("队列", "佇列", "Queues") }
    var noQueueFigures: String { pick("没有队列数据。", "沒有佇列資料。", "No queue figures.") }
    var queueColumns: [String] {
        [pick("队列", "佇列", "queue"), pick("待处理", "待處理", "ready"), pick("未确认", "未確認", "unacked"),
         pick("消费者", "消費者", "consumers"), pick("发布/秒", "發佈/秒", "publish/s"), pick("投递/秒", "投遞/秒", "deliver/s"),
         pick("确认/秒", "確認/秒", "ack/s"), pick("最早消息", "最早訊息", "oldest")]
    }
    var fromManagement: String { pick("数据来自 RabbitMQ 管理接口", "資料來自 RabbitMQ 管理介面", "from RabbitMQ's management API") }
    var fromPassive: String {
        pick("数据来自被动声明（管理接口无应答：无速率、无未确认数）", "資料來自被動宣告（管理介面無回應：無速率、無未確認數）",
             "from passive declares (no rates, no unacked: the management API did not answer)")
    }

    var worker: String { pick("处理进程", "處理程序", "Worker") }
    var healthy: String { pick("正常", "正常", "ok") }
    var unavailable: String { pick("不可用", "不可用", "unavailable") }
    var broker: String { pick("消息服务器", "訊息伺服器", "broker") }
    var store: String { pick("数据库", "資料庫", "store") }
    var storeOK: String { pick("正常", "正常", "ok") }
    var storeFailing: String { pick("故障", "故障", "failing") }
    func brokerState(_ state: WorkerHealth.Broker) -> String {
        switch state {
        case .starting: pick("启动中", "啟動中", "starting")
        case .connected: pick("已连接", "已連線", "connected")
        case .blocked: pick("被阻塞", "被阻塞", "blocked")
        case .disconnected: pick("已断开", "已斷線", "disconnected")
        case .cancelledByBroker: pick("订阅被取消", "訂閱被取消", "cancelled by the broker")
        case .stopping: pick("正在停止", "正在停止", "stopping")
        }
    }
    var runningSince: String { pick("启动时间", "啟動時間", "running since") }
    var lastApplied: String { pick("最近入库", "最近入庫", "last applied") }
    var never: String { pick("尚无", "尚無", "never") }
    var storeFailingSince: String { pick("数据库故障始于", "資料庫故障始於", "store failing since") }
    var sinceStart: String { pick("自启动以来", "自啟動以來", "since the worker started") }
    var countColumns: [String] {
        [pick("取得消息", "取得訊息", "messages taken"), pick("已入库事件", "已入庫事件", "events applied"),
         pick("重复", "重複", "duplicates"), pick("转入死信", "轉入死信", "dead-lettered"), pick("重试", "重試", "retried")]
    }

    var campaignName: String { pick("名称", "名稱", "name") }
    func noTargets(_ year: Int) -> String {
        pick("配置文件中没有 \(year) 年的目标（<code>targets:</code>）。", "設定檔中沒有 \(year) 年的目標（<code>targets:</code>）。",
             "No targets for \(year) in the config file (<code>targets:</code>).")
    }

    var deadLetters: String { pick("死信", "死信", "Dead letters") }
    func deadHolds(_ count: String) -> String {
        pick("lode.dead 中有 <b id=\"dead-count\">\(count)</b> 条", "lode.dead 中有 <b id=\"dead-count\">\(count)</b> 條",
             "lode.dead holds <b id=\"dead-count\">\(count)</b>")
    }
    var oldest: String { pick("最早", "最早", "oldest") }
    var deadColumns: [String] {
        [pick("编号", "編號", "id"), pick("事件类型", "事件類型", "type"), pick("原因", "原因", "reason"), pick("首次失败", "首次失敗", "first failed")]
    }
    var noDeadLetters: String { pick("没有死信。", "沒有死信。", "No dead letters.") }
    var notIndexed: String {
        pick("处理进程的索引中没有；<code>lode.dead</code> 中的消息由 <code>lodectl dlq list --sync</code> 编入索引。",
             "處理程序的索引中沒有；<code>lode.dead</code> 中的訊息由 <code>lodectl dlq list --sync</code> 編入索引。",
             "None in the worker's index; what <code>lode.dead</code> holds is indexed by <code>lodectl dlq list --sync</code>.")
    }
    var noList: String {
        pick("此处无法列出死信：请用 <code>lodectl dlq list</code> 查看。", "此處無法列出死信：請用 <code>lodectl dlq list</code> 查看。",
             "The list of dead letters is not available here: <code>lodectl dlq list</code> shows them.")
    }
    /// A dead letter's reason, its code kept for the operator's commands.
    func reason(_ code: String) -> String {
        let name: String
        switch code {
        case "invalid_json": name = pick("不是有效的 JSON", "不是有效的 JSON", "not valid JSON")
        case "invalid_event": name = pick("事件无效", "事件無效", "invalid event")
        case "unknown_type": name = pick("未知事件类型", "未知事件類型", "unknown type")
        case "too_large": name = pick("过大", "過大", "too large")
        case "conflicting_duplicate": name = pick("编号重复但内容不同", "編號重複但內容不同", "conflicting duplicate")
        case "unauthorized": name = pick("无权发送", "無權發送", "unauthorized")
        case "poison": name = pick("反复失败", "反覆失敗", "poison message")
        default: return code
        }
        return name
    }
    func eventType(_ wire: String) -> String {
        guard let type = EventType(rawValue: wire) else { return wire }
        return type.name(in: language)
    }

    var failedNotifications: String { pick("发送失败的通知", "發送失敗的通知", "Failed notifications") }
    var noFailedNotifications: String { pick("没有发送失败的通知。", "沒有發送失敗的通知。", "No failed notifications.") }
    var notificationColumns: [String] {
        [pick("编号", "編號", "id"), pick("规则", "規則", "rule"), pick("渠道", "管道", "channel"), pick("标题", "標題", "title"),
         pick("尝试次数", "嘗試次數", "attempts"), pick("最近错误", "最近錯誤", "last error"), pick("记录时间", "記錄時間", "recorded")]
    }
    var retryHint: String {
        pick("<code>lodectl notifications retry ID</code> 重新发送一条。", "<code>lodectl notifications retry ID</code> 重新發送一條。",
             "<code>lodectl notifications retry ID</code> sends one again.")
    }
}
