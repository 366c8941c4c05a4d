<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN">
<context>
    <name>AboutDialog</name>
    <message>
        <location filename="../../desktop/about.py" line="117"/>
        <location filename="../../desktop/about.py" line="126"/>
        <source>About KPDD Tutor</source>
        <translation>关于 KPDD 数学辅导</translation>
    </message>
    <message>
        <location filename="../../desktop/about.py" line="118"/>
        <source>KPDD Tutor {0}</source>
        <translation>KPDD 数学辅导 {0}</translation>
    </message>
    <message>
        <location filename="../../desktop/about.py" line="123"/>
        <source>Version</source>
        <translation>版本</translation>
    </message>
    <message>
        <location filename="../../desktop/about.py" line="128"/>
        <source>&amp;Licenses...</source>
        <translation>许可证(&amp;L)...</translation>
    </message>
    <message>
        <location filename="../../desktop/about.py" line="129"/>
        <source>Show the license texts</source>
        <translation>显示许可证文本</translation>
    </message>
    <message>
        <location filename="../../desktop/about.py" line="145"/>
        <source>No model is installed yet: run `{0}`.</source>
        <translation>还没有安装模型:请运行 `{0}`。</translation>
    </message>
    <message>
        <location filename="../../desktop/about.py" line="146"/>
        <source>{0} answers your problems.</source>
        <translation>由 {0} 解答你的题目。</translation>
    </message>
    <message>
        <location filename="../../desktop/about.py" line="151"/>
        <source>{0} solves every problem too, to check the answer.</source>
        <translation>{0} 也会解每一道题,用来核对答案。</translation>
    </message>
    <message>
        <location filename="../../desktop/about.py" line="154"/>
        <source>{0} is asked too when an answer looks doubtful.</source>
        <translation>答案看起来可疑时,也会请 {0} 解一遍。</translation>
    </message>
    <message>
        <location filename="../../desktop/about.py" line="156"/>
        <source>Measured: {0}.</source>
        <translation>实测:{0}。</translation>
    </message>
    <message>
        <location filename="../../desktop/about.py" line="171"/>
        <source>Model</source>
        <translation>模型</translation>
    </message>
    <message>
        <location filename="../../desktop/about.py" line="167"/>
        <source>trained on the KPDD format ({0})</source>
        <translation>按 KPDD 格式训练({0})</translation>
    </message>
    <message>
        <location filename="../../desktop/about.py" line="169"/>
        <source>prompted few-shot (not trained on the KPDD format)</source>
        <translation>少样本提示(未按 KPDD 格式训练)</translation>
    </message>
    <message>
        <location filename="../../desktop/about.py" line="172"/>
        <source>File</source>
        <translation>文件</translation>
    </message>
    <message>
        <location filename="../../desktop/about.py" line="173"/>
        <source>Size</source>
        <translation>大小</translation>
    </message>
    <message>
        <location filename="../../desktop/about.py" line="174"/>
        <source>Quantization</source>
        <translation>量化</translation>
    </message>
    <message>
        <location filename="../../desktop/about.py" line="175"/>
        <source>Architecture</source>
        <translation>架构</translation>
    </message>
    <message>
        <location filename="../../desktop/about.py" line="176"/>
        <source>Format</source>
        <translation>格式</translation>
    </message>
    <message>
        <location filename="../../desktop/about.py" line="181"/>
        <source>License</source>
        <translation>许可证</translation>
    </message>
    <message>
        <location filename="../../desktop/about.py" line="181"/>
        <source>unknown</source>
        <translation>未知</translation>
    </message>
    <message>
        <location filename="../../desktop/about.py" line="185"/>
        <source>Source</source>
        <translation>来源</translation>
    </message>
    <message>
        <location filename="../../desktop/about.py" line="186"/>
        <source>package {0}, sha256 {1}</source>
        <translation>软件包 {0},sha256 {1}</translation>
    </message>
    <message>
        <location filename="../../desktop/about.py" line="191"/>
        <source>Taught by</source>
        <translation>教师模型</translation>
    </message>
    <message>
        <location filename="../../desktop/about.py" line="193"/>
        <source>Trained on</source>
        <translation>训练数据</translation>
    </message>
    <message>
        <location filename="../../desktop/about.py" line="198"/>
        <source>System-call filter (seccomp)</source>
        <translation>系统调用过滤(seccomp)</translation>
    </message>
    <message>
        <location filename="../../desktop/about.py" line="199"/>
        <source>File and network rules (Landlock)</source>
        <translation>文件与网络规则(Landlock)</translation>
    </message>
    <message>
        <location filename="../../desktop/about.py" line="200"/>
        <source>No network (a network namespace of its own)</source>
        <translation>无网络(独立的网络命名空间)</translation>
    </message>
    <message>
        <location filename="../../desktop/about.py" line="201"/>
        <source>Unprivileged user</source>
        <translation>非特权用户</translation>
    </message>
    <message>
        <location filename="../../desktop/about.py" line="202"/>
        <source>A fresh process for each program</source>
        <translation>每个程序一个全新进程</translation>
    </message>
    <message>
        <location filename="../../desktop/about.py" line="203"/>
        <source>Job Object (Windows)</source>
        <translation>作业对象(Windows)</translation>
    </message>
    <message>
        <location filename="../../desktop/about.py" line="204"/>
        <source>Restricted token (Windows)</source>
        <translation>受限令牌(Windows)</translation>
    </message>
    <message>
        <location filename="../../desktop/about.py" line="205"/>
        <source>Network</source>
        <translation>网络</translation>
    </message>
    <message>
        <location filename="../../desktop/about.py" line="206"/>
        <source>sandbox-exec profile (macOS)</source>
        <translation>sandbox-exec 配置(macOS)</translation>
    </message>
    <message>
        <location filename="../../desktop/about.py" line="207"/>
        <source>Sandbox worker</source>
        <translation>沙箱工作进程</translation>
    </message>
    <message>
        <location filename="../../desktop/about.py" line="214"/>
        <location filename="../../desktop/about.py" line="232"/>
        <source>in force</source>
        <translation>已启用</translation>
    </message>
    <message>
        <location filename="../../desktop/about.py" line="215"/>
        <source>in force (the app does not run as root)</source>
        <translation>已启用(应用未以 root 身份运行)</translation>
    </message>
    <message>
        <location filename="../../desktop/about.py" line="216"/>
        <source>applied (untried on this platform)</source>
        <translation>已应用(未在此平台上测试)</translation>
    </message>
    <message>
        <location filename="../../desktop/about.py" line="217"/>
        <source>off: the pyseccomp package is missing</source>
        <translation>未启用:缺少 pyseccomp 包</translation>
    </message>
    <message>
        <location filename="../../desktop/about.py" line="218"/>
        <source>off: the system library libseccomp.so.2 is missing</source>
        <translation>未启用:缺少系统库 libseccomp.so.2</translation>
    </message>
    <message>
        <location filename="../../desktop/about.py" line="219"/>
        <source>off: the filter could not be built</source>
        <translation>未启用:无法建立过滤器</translation>
    </message>
    <message>
        <location filename="../../desktop/about.py" line="220"/>
        <source>off: the landlock package is missing</source>
        <translation>未启用:缺少 landlock 包</translation>
    </message>
    <message>
        <location filename="../../desktop/about.py" line="221"/>
        <source>off: this kernel does not offer it</source>
        <translation>未启用:此内核不提供该功能</translation>
    </message>
    <message>
        <location filename="../../desktop/about.py" line="222"/>
        <source>off: this system does not let the app make one (user namespaces)</source>
        <translation>未启用:此系统不允许应用创建(用户命名空间)</translation>
    </message>
    <message>
        <location filename="../../desktop/about.py" line="223"/>
        <source>off: the switch to the user nobody failed</source>
        <translation>未启用:无法切换到用户 nobody</translation>
    </message>
    <message>
        <location filename="../../desktop/about.py" line="224"/>
        <source>not available on this system</source>
        <translation>此系统上不可用</translation>
    </message>
    <message>
        <location filename="../../desktop/about.py" line="225"/>
        <source>not blocked on Windows</source>
        <translation>在 Windows 上未被阻止</translation>
    </message>
    <message>
        <location filename="../../desktop/about.py" line="226"/>
        <source>off: the Job Object could not be set</source>
        <translation>未启用:无法设置作业对象</translation>
    </message>
    <message>
        <location filename="../../desktop/about.py" line="227"/>
        <source>off: the token could not be lowered</source>
        <translation>未启用:无法降低令牌权限</translation>
    </message>
    <message>
        <location filename="../../desktop/about.py" line="228"/>
        <source>off: sandbox-exec is missing</source>
        <translation>未启用:缺少 sandbox-exec</translation>
    </message>
    <message>
        <location filename="../../desktop/about.py" line="229"/>
        <source>off: the sandbox could not start</source>
        <translation>未启用:沙箱无法启动</translation>
    </message>
    <message>
        <location filename="../../desktop/about.py" line="230"/>
        <source>off (test)</source>
        <translation>未启用(测试)</translation>
    </message>
    <message>
        <location filename="../../desktop/about.py" line="232"/>
        <source>off</source>
        <translation>未启用</translation>
    </message>
    <message>
        <location filename="../../desktop/about.py" line="244"/>
        <source>An offline math word-problem tutor built on Key-Point-Driven Distillation (KPDD; Zhu et al., 2024, {0}): core question, key information, then a solution.</source>
        <translation>一个离线的数学应用题辅导程序,基于关键点驱动蒸馏(KPDD;Zhu 等,2024,{0}):先找核心问题,再列关键信息,最后给出解答。</translation>
    </message>
    <message>
        <location filename="../../desktop/about.py" line="247"/>
        <source>Which model answers</source>
        <translation>由哪个模型解答</translation>
    </message>
    <message>
        <location filename="../../desktop/about.py" line="248"/>
        <source>Model details</source>
        <translation>模型详情</translation>
    </message>
    <message>
        <location filename="../../desktop/about.py" line="249"/>
        <source>Licenses</source>
        <translation>许可证</translation>
    </message>
    <message>
        <location filename="../../desktop/about.py" line="250"/>
        <source>KPDD Tutor is licensed under {0}.</source>
        <translation>KPDD 数学辅导以 {0} 许可证发布。</translation>
    </message>
    <message>
        <location filename="../../desktop/about.py" line="251"/>
        <source>Program sandbox</source>
        <translation>程序沙箱</translation>
    </message>
    <message>
        <location filename="../../desktop/about.py" line="253"/>
        <source>The programs a model writes run in a sandbox: checked before they run, then in a fresh process with these protections from the operating system:</source>
        <translation>模型编写的程序在沙箱中运行:先经检查,再在全新的进程中运行,并受操作系统的以下保护:</translation>
    </message>
    <message>
        <location filename="../../desktop/about.py" line="257"/>
        <source>Some protections are off on this computer: the others and the sandbox&apos;s own checks still apply, but programs run less contained than they could.</source>
        <translation>本机上有些保护未启用:其余保护和沙箱自身的检查仍然有效,但程序受到的限制比应有的少。</translation>
    </message>
    <message>
        <location filename="../../desktop/about.py" line="261"/>
        <source>None of these holds programs on this computer, so programs do not run: Steps mode works, and Settings &gt; Programs can let programs run unprotected.</source>
        <translation>这台电脑上以上保护都不可用,因此程序不会运行:“步骤”模式可以使用,可在 设置 &gt; 程序 中允许程序在无保护状态下运行。</translation>
    </message>
    <message>
        <location filename="../../desktop/about.py" line="265"/>
        <source>None of these holds programs on this computer, and Settings &gt; Programs lets them run anyway: only the sandbox&apos;s own checks stand between a program and your files.</source>
        <translation>这台电脑上以上保护都不可用,而 设置 &gt; 程序 允许程序照常运行:程序与你的文件之间只有沙箱自身的检查。</translation>
    </message>
    <message>
        <location filename="../../desktop/about.py" line="269"/>
        <source>Tested on Linux (seccomp and Landlock). On macOS a sandbox-exec profile, and on Windows a Job Object with a Low-integrity token, are applied where available but have not been tried.</source>
        <translation>已在 Linux 上测试(seccomp 与 Landlock)。macOS 上的 sandbox-exec 配置和 Windows 上的作业对象加低完整性令牌在可用时会启用,但尚未实测。</translation>
    </message>
    <message>
        <location filename="../../desktop/about.py" line="272"/>
        <source>Bundled third-party parts:</source>
        <translation>随附的第三方组件:</translation>
    </message>
    <message>
        <location filename="../../desktop/about.py" line="273"/>
        <source>Qt and PySide6 are dynamically linked under the LGPL and can be replaced.</source>
        <translation>Qt 和 PySide6 按 LGPL 动态链接,可以替换。</translation>
    </message>
</context>
<context>
    <name>AnswerCard</name>
    <message>
        <location filename="../../desktop/cards/answer.py" line="97"/>
        <location filename="../../desktop/cards/answer.py" line="98"/>
        <source>Answer</source>
        <translation>答案</translation>
    </message>
    <message>
        <location filename="../../desktop/cards/answer.py" line="99"/>
        <source>How sure the tutor is</source>
        <translation>辅导程序的把握</translation>
    </message>
    <message>
        <location filename="../../desktop/cards/answer.py" line="100"/>
        <source>Why the tutor is sure or not</source>
        <translation>辅导程序有没有把握的原因</translation>
    </message>
    <message>
        <location filename="../../desktop/cards/answer.py" line="101"/>
        <source>Agreement and confidence</source>
        <translation>一致性与置信度</translation>
    </message>
    <message>
        <location filename="../../desktop/cards/answer.py" line="102"/>
        <source>Work through it with &amp;hints</source>
        <translation>借助提示一步步做(&amp;H)</translation>
    </message>
    <message>
        <location filename="../../desktop/cards/answer.py" line="103"/>
        <source>Work through the problem with hints</source>
        <translation>借助提示一步步解这道题</translation>
    </message>
    <message>
        <location filename="../../desktop/cards/answer.py" line="104"/>
        <source>&amp;Your answer:</source>
        <translation>你的答案(&amp;Y):</translation>
    </message>
    <message>
        <location filename="../../desktop/cards/answer.py" line="105"/>
        <source>e.g. 42</source>
        <translation>例如 42</translation>
    </message>
    <message>
        <location filename="../../desktop/cards/answer.py" line="106"/>
        <source>Your answer</source>
        <translation>你的答案</translation>
    </message>
    <message>
        <location filename="../../desktop/cards/answer.py" line="107"/>
        <source>&amp;Check my answer</source>
        <translation>检查我的答案(&amp;C)</translation>
    </message>
    <message>
        <location filename="../../desktop/cards/answer.py" line="108"/>
        <source>Check my answer</source>
        <translation>检查我的答案</translation>
    </message>
    <message>
        <location filename="../../desktop/cards/answer.py" line="119"/>
        <source>Not checked yet: {0} is solving the problem too, to check this answer.</source>
        <translation>尚未检查:{0} 也在解这道题,用来检查这个答案。</translation>
    </message>
    <message>
        <location filename="../../desktop/cards/answer.py" line="120"/>
        <source>Checking...</source>
        <translation>检查中...</translation>
    </message>
    <message>
        <location filename="../../desktop/cards/answer.py" line="122"/>
        <source>Solving...</source>
        <translation>正在解题...</translation>
    </message>
    <message>
        <location filename="../../desktop/cards/answer.py" line="127"/>
        <source>Hidden while you work on it: ask for a hint or show the whole solution.</source>
        <translation>在你思考时先隐藏:可以请求提示或显示完整解答。</translation>
    </message>
    <message>
        <location filename="../../desktop/cards/answer.py" line="130"/>
        <source>Stopped</source>
        <translation>已停止</translation>
    </message>
    <message>
        <location filename="../../desktop/cards/answer.py" line="130"/>
        <source>Solving was stopped before it found an answer. Press Solve to start again.</source>
        <translation>在找到答案之前已停止解题。按“解题”重新开始。</translation>
    </message>
    <message>
        <location filename="../../desktop/cards/answer.py" line="133"/>
        <source>The answer appears here, with how sure the tutor is of it.</source>
        <translation>答案会显示在这里,并说明辅导程序对它有多大把握。</translation>
    </message>
    <message>
        <location filename="../../desktop/cards/answer.py" line="150"/>
        <source>Try Steps or Both, or edit the key information and solve again.</source>
        <translation>试试“步骤”或“两者”模式,或者修改关键信息后重新求解。</translation>
    </message>
    <message>
        <location filename="../../desktop/cards/answer.py" line="151"/>
        <source>No answer</source>
        <translation>没有答案</translation>
    </message>
    <message>
        <location filename="../../desktop/cards/answer.py" line="157"/>
        <source>Have {0} solve it too, to check this answer, or work through it with the hints.</source>
        <translation>让 {0} 也解一遍来检查这个答案,或者跟着提示一步步做。</translation>
    </message>
    <message>
        <location filename="../../desktop/cards/answer.py" line="161"/>
        <source>Work through it with the hints.</source>
        <translation>借助提示一步步做。</translation>
    </message>
    <message>
        <location filename="../../desktop/cards/answer.py" line="195"/>
        <source>Type your answer first.</source>
        <translation>请先输入你的答案。</translation>
    </message>
    <message>
        <location filename="../../desktop/cards/answer.py" line="197"/>
        <source>The tutor is solving the problem to check your answer...</source>
        <translation>辅导程序正在解题以检查你的答案...</translation>
    </message>
    <message>
        <location filename="../../desktop/cards/answer.py" line="213"/>
        <source>Check it with {0}</source>
        <translation>用 {0} 检查</translation>
    </message>
    <message>
        <location filename="../../desktop/cards/answer.py" line="215"/>
        <source>Have a second model, {0}, solve the problem to check this answer</source>
        <translation>让第二个模型 {0} 也解这道题,来检查这个答案</translation>
    </message>
</context>
<context>
    <name>BatchDialog</name>
    <message>
        <location filename="../../desktop/batch_view.py" line="135"/>
        <source>Batch and solution sheets</source>
        <translation>批量解题与答案讲义</translation>
    </message>
    <message>
        <location filename="../../desktop/batch_view.py" line="136"/>
        <source>&amp;Open problem list...</source>
        <translation>打开题目列表(&amp;O)...</translation>
    </message>
    <message>
        <location filename="../../desktop/batch_view.py" line="137"/>
        <location filename="../../desktop/batch_view.py" line="185"/>
        <source>Open a list of problems</source>
        <translation>打开题目列表</translation>
    </message>
    <message>
        <location filename="../../desktop/batch_view.py" line="141"/>
        <source>A .txt file (one problem per paragraph, or one per line when each line is a question), a .csv or a .jsonl list.</source>
        <translation>一个 .txt 文件(每段一道题;如果每行都是一个问题,则每行一道题)、.csv 或 .jsonl 列表。</translation>
    </message>
    <message>
        <location filename="../../desktop/batch_view.py" line="150"/>
        <location filename="../../desktop/batch_view.py" line="167"/>
        <source>Program</source>
        <translation>程序</translation>
    </message>
    <message>
        <location filename="../../desktop/batch_view.py" line="150"/>
        <source>Steps</source>
        <translation>步骤</translation>
    </message>
    <message>
        <location filename="../../desktop/batch_view.py" line="150"/>
        <location filename="../../desktop/batch_view.py" line="167"/>
        <source>Both</source>
        <translation>两者</translation>
    </message>
    <message>
        <location filename="../../desktop/batch_view.py" line="153"/>
        <source>Solution mode</source>
        <translation>解题方式</translation>
    </message>
    <message>
        <location filename="../../desktop/batch_view.py" line="154"/>
        <source>&amp;Cancel</source>
        <translation>取消(&amp;C)</translation>
    </message>
    <message>
        <location filename="../../desktop/batch_view.py" line="155"/>
        <source>Cancel the batch</source>
        <translation>取消批量解题</translation>
    </message>
    <message>
        <location filename="../../desktop/batch_view.py" line="156"/>
        <source>Batch progress</source>
        <translation>批量进度</translation>
    </message>
    <message>
        <location filename="../../desktop/batch_view.py" line="158"/>
        <source>#</source>
        <translation>#</translation>
    </message>
    <message>
        <location filename="../../desktop/batch_view.py" line="158"/>
        <source>Problem</source>
        <translation>题目</translation>
    </message>
    <message>
        <location filename="../../desktop/batch_view.py" line="158"/>
        <source>Answer</source>
        <translation>答案</translation>
    </message>
    <message>
        <location filename="../../desktop/batch_view.py" line="158"/>
        <source>Verdict</source>
        <translation>判断</translation>
    </message>
    <message>
        <location filename="../../desktop/batch_view.py" line="160"/>
        <source>Sheet &amp;title:</source>
        <translation>讲义标题(&amp;T):</translation>
    </message>
    <message>
        <location filename="../../desktop/batch_view.py" line="161"/>
        <source>Sheet title</source>
        <translation>讲义标题</translation>
    </message>
    <message>
        <location filename="../../desktop/batch_view.py" line="162"/>
        <source>&amp;Student copy</source>
        <translation>学生版(&amp;S)</translation>
    </message>
    <message>
        <location filename="../../desktop/batch_view.py" line="163"/>
        <source>&amp;Answer key on the last page</source>
        <translation>最后一页附答案(&amp;A)</translation>
    </message>
    <message>
        <location filename="../../desktop/batch_view.py" line="164"/>
        <source>S&amp;how:</source>
        <translation>显示(&amp;H):</translation>
    </message>
    <message>
        <location filename="../../desktop/batch_view.py" line="167"/>
        <source>Worked steps</source>
        <translation>解题步骤</translation>
    </message>
    <message>
        <location filename="../../desktop/batch_view.py" line="169"/>
        <source>How a program&apos;s solution is shown on the sheet</source>
        <translation>讲义上如何显示程序的解答</translation>
    </message>
    <message>
        <location filename="../../desktop/batch_view.py" line="170"/>
        <source>&amp;Export sheet...</source>
        <translation>导出讲义(&amp;E)...</translation>
    </message>
    <message>
        <location filename="../../desktop/batch_view.py" line="185"/>
        <source>Problem lists (*.txt *.csv *.jsonl)</source>
        <translation>题目列表 (*.txt *.csv *.jsonl)</translation>
    </message>
    <message>
        <location filename="../../desktop/batch_view.py" line="194"/>
        <source>Cannot use this file: {0}</source>
        <translation>无法使用此文件:{0}</translation>
    </message>
    <message>
        <location filename="../../desktop/batch_view.py" line="206"/>
        <source>Read {0} problems from {1}; the start of each is listed below.</source>
        <translation>从 {1} 读到 {0} 道题;下面列出了每道题的开头。</translation>
    </message>
    <message>
        <location filename="../../desktop/batch_view.py" line="212"/>
        <source>Problem {0} asks several questions: if it holds several problems, put each on a line of its own or leave a blank line between them.</source>
        <translation>第 {0} 题问了好几个问题:如果其中包含好几道题,请把每道题单独放一行,或在题目之间空一行。</translation>
    </message>
    <message>
        <location filename="../../desktop/batch_view.py" line="242"/>
        <source>{0} of {1} already solved</source>
        <translation>已解 {0}/{1} 道</translation>
    </message>
    <message>
        <location filename="../../desktop/batch_view.py" line="258"/>
        <source>none</source>
        <translation>无</translation>
    </message>
    <message>
        <location filename="../../desktop/batch_view.py" line="282"/>
        <source>{0} of {1} answers checked.</source>
        <translation>{1} 个答案中有 {0} 个已核对。</translation>
    </message>
    <message>
        <location filename="../../desktop/batch_view.py" line="285"/>
        <source>{0} to check by hand: they are marked “check this one” on the sheet.</source>
        <translation>{0} 个需要人工核对:讲义上标有 “check this one”。</translation>
    </message>
    <message>
        <location filename="../../desktop/batch_view.py" line="301"/>
        <source>Starting...</source>
        <translation>正在开始...</translation>
    </message>
    <message>
        <location filename="../../desktop/batch_view.py" line="314"/>
        <source>Cancelling...</source>
        <translation>正在取消...</translation>
    </message>
    <message>
        <location filename="../../desktop/batch_view.py" line="326"/>
        <source>done</source>
        <translation>完成</translation>
    </message>
    <message>
        <location filename="../../desktop/batch_view.py" line="327"/>
        <source>{0} of {1} solved, {2}</source>
        <translation>已解 {0}/{1} 道,{2}</translation>
    </message>
    <message>
        <location filename="../../desktop/batch_view.py" line="340"/>
        <source>Cancelled: {0} of {1} solved. Start again to resume.</source>
        <translation>已取消:已解 {0}/{1} 道。再次开始即可继续。</translation>
    </message>
    <message>
        <location filename="../../desktop/batch_view.py" line="346"/>
        <source>All {0} problems solved ({1} from an earlier run).</source>
        <translation>全部 {0} 道题已解完(其中 {1} 道来自上次运行)。</translation>
    </message>
    <message>
        <location filename="../../desktop/batch_view.py" line="357"/>
        <source>The batch stopped: {0}</source>
        <translation>批量解题停止:{0}</translation>
    </message>
    <message>
        <location filename="../../desktop/batch_view.py" line="364"/>
        <source>&amp;Resume</source>
        <translation>继续(&amp;R)</translation>
    </message>
    <message>
        <location filename="../../desktop/batch_view.py" line="364"/>
        <source>&amp;Start</source>
        <translation>开始(&amp;S)</translation>
    </message>
    <message>
        <location filename="../../desktop/batch_view.py" line="387"/>
        <source>Wrote {0}</source>
        <translation>已写入 {0}</translation>
    </message>
    <message>
        <location filename="../../desktop/batch_view.py" line="393"/>
        <source>Export solution sheet</source>
        <translation>导出答案讲义</translation>
    </message>
    <message>
        <location filename="../../desktop/batch_view.py" line="395"/>
        <source>PDF (*.pdf);;HTML (*.html);;Markdown (*.md)</source>
        <translation>PDF (*.pdf);;HTML (*.html);;Markdown (*.md)</translation>
    </message>
</context>
<context>
    <name>HistoryPanel</name>
    <message>
        <location filename="../../desktop/history_view.py" line="60"/>
        <location filename="../../desktop/history_view.py" line="61"/>
        <source>Search history</source>
        <translation>搜索历史</translation>
    </message>
    <message>
        <location filename="../../desktop/history_view.py" line="62"/>
        <source>Solved problems</source>
        <translation>已解题目</translation>
    </message>
    <message>
        <location filename="../../desktop/history_view.py" line="63"/>
        <source>&amp;Reopen</source>
        <translation>重新打开(&amp;R)</translation>
    </message>
    <message>
        <location filename="../../desktop/history_view.py" line="64"/>
        <source>Delete</source>
        <translation>删除</translation>
    </message>
    <message>
        <location filename="../../desktop/history_view.py" line="65"/>
        <source>Export...</source>
        <translation>导出...</translation>
    </message>
    <message>
        <location filename="../../desktop/history_view.py" line="66"/>
        <source>Reopen the selected problem</source>
        <translation>重新打开所选题目</translation>
    </message>
    <message>
        <location filename="../../desktop/history_view.py" line="67"/>
        <source>Delete the selected problem from history</source>
        <translation>从历史中删除所选题目</translation>
    </message>
    <message>
        <location filename="../../desktop/history_view.py" line="68"/>
        <source>Export history to a file</source>
        <translation>把历史导出到文件</translation>
    </message>
    <message>
        <location filename="../../desktop/history_view.py" line="98"/>
        <source>Program</source>
        <translation>程序</translation>
    </message>
    <message>
        <location filename="../../desktop/history_view.py" line="98"/>
        <source>Steps</source>
        <translation>步骤</translation>
    </message>
    <message>
        <location filename="../../desktop/history_view.py" line="98"/>
        <source>Both</source>
        <translation>两者</translation>
    </message>
    <message>
        <location filename="../../desktop/history_view.py" line="127"/>
        <source>Export history</source>
        <translation>导出历史</translation>
    </message>
    <message>
        <location filename="../../desktop/history_view.py" line="128"/>
        <source>JSON (*.json);;JSON lines (*.jsonl);;Markdown (*.md);;HTML (*.html)</source>
        <translation>JSON (*.json);;JSON lines (*.jsonl);;Markdown (*.md);;HTML (*.html)</translation>
    </message>
</context>
<context>
    <name>LicensesDialog</name>
    <message>
        <location filename="../../desktop/about.py" line="98"/>
        <source>Licenses</source>
        <translation>许可证</translation>
    </message>
    <message>
        <location filename="../../desktop/about.py" line="102"/>
        <source>License texts</source>
        <translation>许可证文本</translation>
    </message>
</context>
<context>
    <name>MainWindow</name>
    <message>
        <location filename="../../desktop/main_window.py" line="279"/>
        <source>KPDD Tutor</source>
        <translation>KPDD 数学辅导</translation>
    </message>
    <message>
        <location filename="../../desktop/main_window.py" line="282"/>
        <source>History</source>
        <translation>历史</translation>
    </message>
    <message>
        <location filename="../../desktop/main_window.py" line="283"/>
        <source>&amp;File</source>
        <translation>文件(&amp;F)</translation>
    </message>
    <message>
        <location filename="../../desktop/main_window.py" line="284"/>
        <source>&amp;Open problem...</source>
        <translation>打开题目(&amp;O)...</translation>
    </message>
    <message>
        <location filename="../../desktop/main_window.py" line="285"/>
        <source>&amp;Batch and solution sheets...</source>
        <translation>批量解题与讲义(&amp;B)...</translation>
    </message>
    <message>
        <location filename="../../desktop/main_window.py" line="286"/>
        <source>&amp;Quit</source>
        <translation>退出(&amp;Q)</translation>
    </message>
    <message>
        <location filename="../../desktop/main_window.py" line="287"/>
        <source>&amp;Tools</source>
        <translation>工具(&amp;T)</translation>
    </message>
    <message>
        <location filename="../../desktop/main_window.py" line="288"/>
        <source>&amp;Models...</source>
        <translation>模型(&amp;M)...</translation>
    </message>
    <message>
        <location filename="../../desktop/main_window.py" line="289"/>
        <source>&amp;Settings...</source>
        <translation>设置(&amp;S)...</translation>
    </message>
    <message>
        <location filename="../../desktop/main_window.py" line="290"/>
        <source>&amp;History</source>
        <translation>历史(&amp;H)</translation>
    </message>
    <message>
        <location filename="../../desktop/main_window.py" line="291"/>
        <source>&amp;Help</source>
        <translation>帮助(&amp;H)</translation>
    </message>
    <message>
        <location filename="../../desktop/main_window.py" line="292"/>
        <source>&amp;About KPDD Tutor</source>
        <translation>关于 KPDD 数学辅导(&amp;A)</translation>
    </message>
    <message>
        <location filename="../../desktop/main_window.py" line="325"/>
        <source>Open a word problem</source>
        <translation>打开应用题</translation>
    </message>
    <message>
        <location filename="../../desktop/main_window.py" line="325"/>
        <source>Text files (*.txt *.md);;All files (*)</source>
        <translation>文本文件 (*.txt *.md);;所有文件 (*)</translation>
    </message>
    <message>
        <location filename="../../desktop/main_window.py" line="337"/>
        <source>{0} is a folder, not a text file.</source>
        <translation>{0} 是文件夹,不是文本文件。</translation>
    </message>
    <message>
        <location filename="../../desktop/main_window.py" line="338"/>
        <source>{0} is not a word problem: open a plain text file (.txt) of at most {1} KB.</source>
        <translation>{0} 不是应用题:请打开不超过 {1} KB 的纯文本文件(.txt)。</translation>
    </message>
    <message>
        <location filename="../../desktop/main_window.py" line="342"/>
        <source>Cannot open the file</source>
        <translation>无法打开文件</translation>
    </message>
</context>
<context>
    <name>ModelManagerDialog</name>
    <message>
        <location filename="../../desktop/models_view.py" line="80"/>
        <location filename="../../desktop/models_view.py" line="85"/>
        <source>Models</source>
        <translation>模型</translation>
    </message>
    <message>
        <location filename="../../desktop/models_view.py" line="82"/>
        <source>Name</source>
        <translation>名称</translation>
    </message>
    <message>
        <location filename="../../desktop/models_view.py" line="82"/>
        <source>Size</source>
        <translation>大小</translation>
    </message>
    <message>
        <location filename="../../desktop/models_view.py" line="82"/>
        <source>Quantization</source>
        <translation>量化</translation>
    </message>
    <message>
        <location filename="../../desktop/models_view.py" line="82"/>
        <source>Measured</source>
        <translation>实测</translation>
    </message>
    <message>
        <location filename="../../desktop/models_view.py" line="83"/>
        <source>Architecture</source>
        <translation>架构</translation>
    </message>
    <message>
        <location filename="../../desktop/models_view.py" line="83"/>
        <source>Trained on KPDD</source>
        <translation>KPDD 训练</translation>
    </message>
    <message>
        <location filename="../../desktop/models_view.py" line="83"/>
        <source>Status</source>
        <translation>状态</translation>
    </message>
    <message>
        <location filename="../../desktop/models_view.py" line="83"/>
        <source>File</source>
        <translation>文件</translation>
    </message>
    <message>
        <location filename="../../desktop/models_view.py" line="86"/>
        <source>&amp;Add GGUF file...</source>
        <translation>添加 GGUF 文件(&amp;A)...</translation>
    </message>
    <message>
        <location filename="../../desktop/models_view.py" line="87"/>
        <source>&amp;Use selected</source>
        <translation>使用所选(&amp;U)</translation>
    </message>
    <message>
        <location filename="../../desktop/models_view.py" line="88"/>
        <source>&amp;Remove</source>
        <translation>移除(&amp;R)</translation>
    </message>
    <message>
        <location filename="../../desktop/models_view.py" line="89"/>
        <source>CPU &amp;threads:</source>
        <translation>CPU 线程(&amp;T):</translation>
    </message>
    <message>
        <location filename="../../desktop/models_view.py" line="108"/>
        <source>yes ({0})</source>
        <translation>是({0})</translation>
    </message>
    <message>
        <location filename="../../desktop/models_view.py" line="110"/>
        <source>no (few-shot)</source>
        <translation>否(少样本提示)</translation>
    </message>
    <message>
        <location filename="../../desktop/models_view.py" line="114"/>
        <source>active</source>
        <translation>使用中</translation>
    </message>
    <message>
        <location filename="../../desktop/models_view.py" line="116"/>
        <source>default</source>
        <translation>默认</translation>
    </message>
    <message>
        <location filename="../../desktop/models_view.py" line="118"/>
        <source>unusable: {0}</source>
        <translation>不可用:{0}</translation>
    </message>
    <message>
        <location filename="../../desktop/models_view.py" line="129"/>
        <source>No models yet. Run `{0}` in a terminal to install the default model, or add a GGUF file.</source>
        <translation>还没有模型。请在终端运行 `{0}` 安装默认模型,或添加一个 GGUF 文件。</translation>
    </message>
    <message>
        <location filename="../../desktop/models_view.py" line="133"/>
        <source>The chosen model is not usable; the default is used instead.</source>
        <translation>所选模型不可用,改用默认模型。</translation>
    </message>
    <message>
        <location filename="../../desktop/models_view.py" line="139"/>
        <source>not measured</source>
        <translation>未测</translation>
    </message>
    <message>
        <location filename="../../desktop/models_view.py" line="148"/>
        <source>, {0} s to answer</source>
        <translation>,{0} 秒给出答案</translation>
    </message>
    <message>
        <location filename="../../desktop/models_view.py" line="161"/>
        <source>, {0} s</source>
        <translation>,{0} 秒</translation>
    </message>
    <message>
        <location filename="../../desktop/models_view.py" line="152"/>
        <source>; {0}% with every answer checked</source>
        <translation>;每个答案都检查时 {0}%</translation>
    </message>
    <message>
        <location filename="../../desktop/models_view.py" line="142"/>
        <source>{0}% right ({1} dev-split problems)</source>
        <translation>正确率 {0}%(开发集 {1} 道题)</translation>
    </message>
    <message>
        <location filename="../../desktop/models_view.py" line="144"/>
        <source>{0}% right ({1} test-split problems)</source>
        <translation>正确率 {0}%(测试集 {1} 道题)</translation>
    </message>
    <message>
        <location filename="../../desktop/models_view.py" line="146"/>
        <source>{0}% right ({1} problems)</source>
        <translation>正确率 {0}%({1} 道题)</translation>
    </message>
    <message>
        <location filename="../../desktop/models_view.py" line="154"/>
        <source>, {0} s to the verdict</source>
        <translation>,{0} 秒给出判断</translation>
    </message>
    <message>
        <location filename="../../desktop/models_view.py" line="157"/>
        <source>; {0}% asking about doubtful answers only</source>
        <translation>;只在答案可疑时询问 {0}%</translation>
    </message>
    <message>
        <location filename="../../desktop/models_view.py" line="177"/>
        <source>Not added: {0}</source>
        <translation>未添加:{0}</translation>
    </message>
    <message>
        <location filename="../../desktop/models_view.py" line="179"/>
        <source>Added {0}.</source>
        <translation>已添加 {0}。</translation>
    </message>
    <message>
        <location filename="../../desktop/models_view.py" line="191"/>
        <source>Add a GGUF model</source>
        <translation>添加 GGUF 模型</translation>
    </message>
    <message>
        <location filename="../../desktop/models_view.py" line="191"/>
        <source>GGUF models (*.gguf)</source>
        <translation>GGUF 模型 (*.gguf)</translation>
    </message>
    <message>
        <location filename="../../desktop/models_view.py" line="200"/>
        <source>{0} will be used for the next solve.</source>
        <translation>下次解题将使用 {0}。</translation>
    </message>
</context>
<context>
    <name>ModelStatus</name>
    <message>
        <location filename="../../desktop/machine_status.py" line="15"/>
        <source>Model: not loaded yet</source>
        <translation>模型:尚未加载</translation>
    </message>
    <message>
        <location filename="../../desktop/machine_status.py" line="16"/>
        <source>Loading model {0}...</source>
        <translation>正在加载模型 {0}...</translation>
    </message>
    <message>
        <location filename="../../desktop/machine_status.py" line="17"/>
        <source>Model: {0}</source>
        <translation>模型:{0}</translation>
    </message>
    <message>
        <location filename="../../desktop/machine_status.py" line="18"/>
        <source>No model installed: run `{0}`</source>
        <translation>未安装模型:请运行 `{0}`</translation>
    </message>
    <message>
        <location filename="../../desktop/machine_status.py" line="19"/>
        <location filename="../../desktop/machine_status.py" line="32"/>
        <source>The model could not be loaded</source>
        <translation>无法加载模型</translation>
    </message>
    <message>
        <location filename="../../desktop/machine_status.py" line="26"/>
        <source>No model yet</source>
        <translation>还没有模型</translation>
    </message>
    <message>
        <location filename="../../desktop/machine_status.py" line="27"/>
        <source>KPDD Tutor needs a model to solve problems, and none is installed yet.

Open a terminal and run:

    {0}

It places the default model ({1}) in your data folder; it works offline afterwards. You can also add a GGUF file of your own in Tools &gt; Models.</source>
        <translation>KPDD 数学辅导需要一个模型才能解题,目前还没有安装。

请打开终端并运行:

    {0}

它会把默认模型({1})放到你的数据文件夹,之后可离线使用。你也可以在 工具 &gt; 模型 中添加自己的 GGUF 文件。</translation>
    </message>
    <message>
        <location filename="../../desktop/machine_status.py" line="33"/>
        <source>The model file could not be opened. It may be corrupt or incomplete.

{0}

Choose another model in Tools &gt; Models, or run `{1}` again.</source>
        <translation>无法打开模型文件,它可能已损坏或不完整。

{0}

请在 工具 &gt; 模型 中选择其他模型,或重新运行 `{1}`。</translation>
    </message>
</context>
<context>
    <name>ProblemCard</name>
    <message>
        <location filename="../../desktop/cards/problem.py" line="114"/>
        <source>&amp;Word problem:</source>
        <translation>应用题(&amp;W):</translation>
    </message>
    <message>
        <location filename="../../desktop/cards/problem.py" line="116"/>
        <source>Type or paste a math word problem here, pick a sample, or open a text file.</source>
        <translation>在这里输入或粘贴一道数学应用题,或选择示例题,或打开文本文件。</translation>
    </message>
    <message>
        <location filename="../../desktop/cards/problem.py" line="118"/>
        <source>Word problem</source>
        <translation>应用题</translation>
    </message>
    <message>
        <location filename="../../desktop/cards/problem.py" line="121"/>
        <source>Sample problems...</source>
        <translation>示例题...</translation>
    </message>
    <message>
        <location filename="../../desktop/cards/problem.py" line="125"/>
        <source>Sample problems</source>
        <translation>示例题</translation>
    </message>
    <message>
        <location filename="../../desktop/cards/problem.py" line="126"/>
        <source>&amp;Open file...</source>
        <translation>打开文件(&amp;O)...</translation>
    </message>
    <message>
        <location filename="../../desktop/cards/problem.py" line="127"/>
        <source>Open a problem from a text file</source>
        <translation>从文本文件打开题目</translation>
    </message>
    <message>
        <location filename="../../desktop/cards/problem.py" line="128"/>
        <source>&amp;Mode:</source>
        <translation>方式(&amp;M):</translation>
    </message>
    <message>
        <location filename="../../desktop/cards/problem.py" line="132"/>
        <source>Program</source>
        <translation>程序</translation>
    </message>
    <message>
        <location filename="../../desktop/cards/problem.py" line="132"/>
        <source>Steps</source>
        <translation>步骤</translation>
    </message>
    <message>
        <location filename="../../desktop/cards/problem.py" line="132"/>
        <source>Both</source>
        <translation>两者</translation>
    </message>
    <message>
        <location filename="../../desktop/cards/problem.py" line="135"/>
        <source>Solution mode</source>
        <translation>解题方式</translation>
    </message>
    <message>
        <location filename="../../desktop/cards/problem.py" line="137"/>
        <source>Program: a Python program computes the answer (right most often). Steps: worked reasoning, its arithmetic checked. Both: both, and whether they agree.</source>
        <translation>程序:由 Python 程序计算答案(最常答对)。步骤:逐步推理,并检查其中的算术。两者:都做,并看是否一致。</translation>
    </message>
    <message>
        <location filename="../../desktop/cards/problem.py" line="140"/>
        <source>S&amp;amples:</source>
        <translation>采样数(&amp;A):</translation>
    </message>
    <message>
        <location filename="../../desktop/cards/problem.py" line="141"/>
        <source>Auto</source>
        <translation>自动</translation>
    </message>
    <message>
        <location filename="../../desktop/cards/problem.py" line="142"/>
        <source>Number of solutions to sample and vote on</source>
        <translation>采样并投票的解答数量</translation>
    </message>
    <message>
        <location filename="../../desktop/cards/problem.py" line="144"/>
        <source>More samples vote on the answer and give a confidence. Auto writes one solution, and five to vote on when its answer looks wrong.</source>
        <translation>更多采样会对答案投票并给出置信度。“自动”先写一个解答,答案看起来不对时再写五个解答投票。</translation>
    </message>
    <message>
        <location filename="../../desktop/cards/problem.py" line="147"/>
        <source>&amp;Solve</source>
        <translation>解题(&amp;S)</translation>
    </message>
    <message>
        <location filename="../../desktop/cards/problem.py" line="148"/>
        <source>Solve the problem (Ctrl+Enter)</source>
        <translation>解题 (Ctrl+Enter)</translation>
    </message>
    <message>
        <location filename="../../desktop/cards/problem.py" line="149"/>
        <source>Solve</source>
        <translation>解题</translation>
    </message>
    <message>
        <location filename="../../desktop/cards/problem.py" line="150"/>
        <source>S&amp;top</source>
        <translation>停止(&amp;T)</translation>
    </message>
    <message>
        <location filename="../../desktop/cards/problem.py" line="151"/>
        <source>Stop solving (Esc)</source>
        <translation>停止解题 (Esc)</translation>
    </message>
    <message>
        <location filename="../../desktop/cards/problem.py" line="152"/>
        <source>Stop</source>
        <translation>停止</translation>
    </message>
    <message>
        <location filename="../../desktop/cards/problem.py" line="153"/>
        <source>Show &amp;whole solution</source>
        <translation>显示完整解答(&amp;W)</translation>
    </message>
    <message>
        <location filename="../../desktop/cards/problem.py" line="154"/>
        <source>Show the whole solution</source>
        <translation>显示完整解答</translation>
    </message>
    <message>
        <location filename="../../desktop/cards/problem.py" line="172"/>
        <source>Solving...</source>
        <translation>正在解题...</translation>
    </message>
    <message>
        <location filename="../../desktop/cards/problem.py" line="173"/>
        <source>Stopping...</source>
        <translation>正在停止...</translation>
    </message>
    <message>
        <location filename="../../desktop/cards/problem.py" line="174"/>
        <source>Stopped.</source>
        <translation>已停止。</translation>
    </message>
    <message>
        <location filename="../../desktop/cards/problem.py" line="175"/>
        <source>Solved in {0:.1f} s.</source>
        <translation>用时 {0:.1f} 秒。</translation>
    </message>
    <message>
        <location filename="../../desktop/cards/problem.py" line="176"/>
        <source>The model stopped with an error: {0}</source>
        <translation>模型出错停止:{0}</translation>
    </message>
    <message>
        <location filename="../../desktop/cards/problem.py" line="177"/>
        <source>The model did not produce a usable answer. Try Steps or Both, or edit the key information and solve again.</source>
        <translation>模型没有给出可用的答案。试试“步骤”或“两者”,或修改关键信息后重新求解。</translation>
    </message>
    <message>
        <location filename="../../desktop/cards/problem.py" line="179"/>
        <source>Check stopped: the answer is as it was.</source>
        <translation>检查已停止:答案保持原样。</translation>
    </message>
    <message>
        <location filename="../../desktop/cards/problem.py" line="180"/>
        <source>Check stopped: the answer is not checked.</source>
        <translation>检查已停止:这个答案没有经过检查。</translation>
    </message>
    <message>
        <location filename="../../desktop/cards/problem.py" line="181"/>
        <source>The second model stopped with an error: {0}</source>
        <translation>第二个模型出错停止:{0}</translation>
    </message>
    <message>
        <location filename="../../desktop/cards/problem.py" line="182"/>
        <source>Checking the answer with {0}...</source>
        <translation>正在用 {0} 检查这个答案...</translation>
    </message>
    <message>
        <location filename="../../desktop/cards/problem.py" line="183"/>
        <source>The answer looks doubtful: asking {0} for a second opinion...</source>
        <translation>这个答案看起来可疑:正在请 {0} 给出第二意见...</translation>
    </message>
    <message>
        <location filename="../../desktop/cards/problem.py" line="184"/>
        <source>The first answer looked wrong: writing {0} more solutions to vote on...</source>
        <translation>第一个答案看起来不对:正在再写 {0} 个解答用于投票...</translation>
    </message>
    <message>
        <location filename="../../desktop/cards/problem.py" line="185"/>
        <source>Checked with {0} in {1:.1f} s.</source>
        <translation>已用 {0} 检查,用时 {1:.1f} 秒。</translation>
    </message>
    <message>
        <location filename="../../desktop/cards/problem.py" line="186"/>
        <source>No second model is loaded: turn it on in Settings &gt; Second opinion.</source>
        <translation>没有加载第二个模型:请在 设置 &gt; 第二意见 中打开。</translation>
    </message>
    <message>
        <location filename="../../desktop/cards/problem.py" line="187"/>
        <source>Something went wrong: {0}</source>
        <translation>出错了:{0}</translation>
    </message>
    <message>
        <location filename="../../desktop/cards/problem.py" line="188"/>
        <source>Reopened from history.</source>
        <translation>已从历史中重新打开。</translation>
    </message>
    <message>
        <location filename="../../desktop/cards/problem.py" line="206"/>
        <source>&amp;Hint</source>
        <translation>提示(&amp;H)</translation>
    </message>
    <message>
        <location filename="../../desktop/cards/problem.py" line="207"/>
        <source>Hint: reveal the core question first</source>
        <translation>提示:先显示核心问题</translation>
    </message>
    <message>
        <location filename="../../desktop/cards/problem.py" line="209"/>
        <source>No more hints</source>
        <translation>没有更多提示了</translation>
    </message>
    <message>
        <location filename="../../desktop/cards/problem.py" line="212"/>
        <source>Next &amp;hint ({0} of {1})</source>
        <translation>下一个提示(&amp;H)({0}/{1})</translation>
    </message>
    <message>
        <location filename="../../desktop/cards/problem.py" line="214"/>
        <source>Next hint</source>
        <translation>下一个提示</translation>
    </message>
    <message>
        <location filename="../../desktop/cards/problem.py" line="235"/>
        <source>The pasted text had {0} characters; only the first {1} are kept, which is more than a word problem needs.</source>
        <translation>粘贴的文本有 {0} 个字符,只保留前 {1} 个,这对一道应用题已经足够。</translation>
    </message>
</context>
<context>
    <name>SandboxBanner</name>
    <message>
        <location filename="../../desktop/machine_status.py" line="54"/>
        <source>Programs run unprotected on this computer: it has no operating-system sandbox for them, and Settings lets them run anyway. Only the tutor&apos;s own checks stand between a program and your files.</source>
        <translation>本机上的程序在无保护状态下运行:这台电脑没有用于程序的操作系统沙箱,而设置允许程序照常运行。程序与你的文件之间只有导师自身的检查。</translation>
    </message>
    <message>
        <location filename="../../desktop/machine_status.py" line="60"/>
        <source>Programs cannot run safely on this computer: it has no operating-system sandbox for them, so Program and Both mode are off. Steps mode works. Settings can let programs run unprotected.</source>
        <translation>程序无法在这台电脑上安全运行:它没有用于程序的操作系统沙箱,因此“程序”和“两者”模式已关闭。“步骤”模式可以使用。可在设置中允许程序在无保护状态下运行。</translation>
    </message>
</context>
<context>
    <name>SettingsDialog</name>
    <message>
        <location filename="../../desktop/settings.py" line="271"/>
        <source>Settings</source>
        <translation>设置</translation>
    </message>
    <message>
        <location filename="../../desktop/settings.py" line="274"/>
        <source>Follow the system</source>
        <translation>跟随系统</translation>
    </message>
    <message>
        <location filename="../../desktop/settings.py" line="274"/>
        <source>Light</source>
        <translation>浅色</translation>
    </message>
    <message>
        <location filename="../../desktop/settings.py" line="274"/>
        <source>Dark</source>
        <translation>深色</translation>
    </message>
    <message>
        <location filename="../../desktop/settings.py" line="276"/>
        <source>System size</source>
        <translation>系统大小</translation>
    </message>
    <message>
        <location filename="../../desktop/settings.py" line="277"/>
        <source> pt</source>
        <translation> 磅</translation>
    </message>
    <message>
        <location filename="../../desktop/settings.py" line="278"/>
        <source>&amp;Theme:</source>
        <translation>主题(&amp;T):</translation>
    </message>
    <message>
        <location filename="../../desktop/settings.py" line="278"/>
        <source>&amp;Font size:</source>
        <translation>字号(&amp;F):</translation>
    </message>
    <message>
        <location filename="../../desktop/settings.py" line="278"/>
        <source>&amp;Language:</source>
        <translation>语言(&amp;L):</translation>
    </message>
    <message>
        <location filename="../../desktop/settings.py" line="278"/>
        <source>CPU &amp;threads:</source>
        <translation>CPU 线程(&amp;T):</translation>
    </message>
    <message>
        <location filename="../../desktop/settings.py" line="284"/>
        <source>Second &amp;opinion:</source>
        <translation>第二意见(&amp;O):</translation>
    </message>
    <message>
        <location filename="../../desktop/settings.py" line="288"/>
        <source>Off: the student answers alone</source>
        <translation>关闭:只由学生模型作答</translation>
    </message>
    <message>
        <location filename="../../desktop/settings.py" line="289"/>
        <source>Asked about doubtful answers only (faster)</source>
        <translation>只在答案可疑时询问(较快)</translation>
    </message>
    <message>
        <location filename="../../desktop/settings.py" line="290"/>
        <source>Asked about every answer</source>
        <translation>每个答案都询问</translation>
    </message>
    <message>
        <location filename="../../desktop/settings.py" line="297"/>
        <source>{0} solves the problem too. On every answer (the default): about 20 points more answers right than the student alone, and &quot;checked&quot; means both models agree (right 96% of the time); the answer shows at once and its verdict follows, about 7 s after the start. On doubtful answers only: about 10 points more, as fast as the student alone most of the time, and nothing is checked unless you ask.</source>
        <translation>{0} 也会解这道题。每个答案都询问(默认):答对的题比只用学生模型约多 20 个百分点,而且“已核对”表示两个模型一致(96% 的情况下正确);答案立即显示,判断随后给出,从开始算起约 7 秒。只在答案可疑时询问:约多 10 个百分点,多数时候和只用学生模型一样快,除非你要求,否则不做核对。</translation>
    </message>
    <message>
        <location filename="../../desktop/settings.py" line="293"/>
        <source>Second opinion</source>
        <translation>第二意见</translation>
    </message>
    <message>
        <location filename="../../desktop/settings.py" line="305"/>
        <source>Not part of this installation.</source>
        <translation>此安装版本不包含它。</translation>
    </message>
    <message>
        <location filename="../../desktop/settings.py" line="308"/>
        <source>Not installed. `{0} --all` adds it ({1} MB).</source>
        <translation>尚未安装。`{0} --all` 可以添加它({1} MB)。</translation>
    </message>
    <message>
        <location filename="../../desktop/settings.py" line="312"/>
        <source>Programs:</source>
        <translation>程序:</translation>
    </message>
    <message>
        <location filename="../../desktop/settings.py" line="313"/>
        <source>&amp;Run them without an operating-system sandbox</source>
        <translation>在没有操作系统沙箱时也运行(&amp;R)</translation>
    </message>
    <message>
        <location filename="../../desktop/settings.py" line="314"/>
        <source>Run programs without an operating-system sandbox</source>
        <translation>在没有操作系统沙箱时运行程序</translation>
    </message>
    <message>
        <location filename="../../desktop/settings.py" line="317"/>
        <source>Only where this computer has no sandbox for programs (Help &gt; About says): a program written by the model could then read or change your files. Steps mode needs none.</source>
        <translation>仅在这台电脑没有程序沙箱时有效(见 帮助 &gt; 关于):此时模型写的程序可能读取或修改你的文件。“步骤”模式不需要沙箱。</translation>
    </message>
    <message>
        <location filename="../../desktop/settings.py" line="321"/>
        <source>Theme</source>
        <translation>主题</translation>
    </message>
    <message>
        <location filename="../../desktop/settings.py" line="321"/>
        <source>Font size</source>
        <translation>字号</translation>
    </message>
    <message>
        <location filename="../../desktop/settings.py" line="321"/>
        <source>Language</source>
        <translation>语言</translation>
    </message>
</context>
<context>
    <name>SolutionCard</name>
    <message>
        <location filename="../../desktop/cards/solution.py" line="64"/>
        <source>3. Solution</source>
        <translation>3. 解答</translation>
    </message>
    <message>
        <location filename="../../desktop/cards/solution.py" line="65"/>
        <location filename="../../desktop/cards/solution.py" line="69"/>
        <location filename="../../desktop/cards/solution.py" line="74"/>
        <source>Worked steps</source>
        <translation>解题步骤</translation>
    </message>
    <message>
        <location filename="../../desktop/cards/solution.py" line="66"/>
        <source>Show the program as worked steps</source>
        <translation>把程序显示为解题步骤</translation>
    </message>
    <message>
        <location filename="../../desktop/cards/solution.py" line="67"/>
        <location filename="../../desktop/cards/solution.py" line="71"/>
        <source>Program</source>
        <translation>程序</translation>
    </message>
    <message>
        <location filename="../../desktop/cards/solution.py" line="68"/>
        <source>Show the program itself</source>
        <translation>显示程序本身</translation>
    </message>
    <message>
        <location filename="../../desktop/cards/solution.py" line="70"/>
        <source>The solution appears here, step by step.</source>
        <translation>解答会一步一步显示在这里。</translation>
    </message>
    <message>
        <location filename="../../desktop/cards/solution.py" line="72"/>
        <source>The program or the steps appear here.</source>
        <translation>程序或解题步骤会显示在这里。</translation>
    </message>
    <message>
        <location filename="../../desktop/cards/solution.py" line="73"/>
        <source>Reasoning steps</source>
        <translation>推理步骤</translation>
    </message>
    <message>
        <location filename="../../desktop/cards/solution.py" line="75"/>
        <source>Program result</source>
        <translation>程序结果</translation>
    </message>
    <message>
        <location filename="../../desktop/cards/solution.py" line="105"/>
        <source>Writing the program...</source>
        <translation>正在编写程序...</translation>
    </message>
</context>
<context>
    <name>StagesPane</name>
    <message>
        <location filename="../../desktop/cards/stages.py" line="41"/>
        <source>1. Core question</source>
        <translation>1. 核心问题</translation>
    </message>
    <message>
        <location filename="../../desktop/cards/stages.py" line="42"/>
        <source>Core question (you can edit it)</source>
        <translation>核心问题(可编辑)</translation>
    </message>
    <message>
        <location filename="../../desktop/cards/stages.py" line="43"/>
        <source>2. Key information</source>
        <translation>2. 关键信息</translation>
    </message>
    <message>
        <location filename="../../desktop/cards/stages.py" line="44"/>
        <source>The facts needed to answer it, one per line.</source>
        <translation>解题所需的已知条件,每行一条。</translation>
    </message>
    <message>
        <location filename="../../desktop/cards/stages.py" line="45"/>
        <source>Key information, one fact per line (you can edit it)</source>
        <translation>关键信息,每行一条(可编辑)</translation>
    </message>
    <message>
        <location filename="../../desktop/cards/stages.py" line="46"/>
        <source>Solve again from this question</source>
        <translation>从这个问题重新求解</translation>
    </message>
    <message>
        <location filename="../../desktop/cards/stages.py" line="47"/>
        <source>Solve again from the edited core question</source>
        <translation>从修改后的核心问题重新求解</translation>
    </message>
    <message>
        <location filename="../../desktop/cards/stages.py" line="48"/>
        <source>Solve again from these facts</source>
        <translation>从这些信息重新求解</translation>
    </message>
    <message>
        <location filename="../../desktop/cards/stages.py" line="49"/>
        <source>Solve again from the edited key information</source>
        <translation>从修改后的关键信息重新求解</translation>
    </message>
    <message>
        <location filename="../../desktop/cards/stages.py" line="54"/>
        <source>The tutor is working on the problem...</source>
        <translation>辅导程序正在解题...</translation>
    </message>
    <message>
        <location filename="../../desktop/cards/stages.py" line="57"/>
        <source>Hidden so you can work on it yourself: ask for a hint or show the whole solution.</source>
        <translation>已隐藏,方便你自己思考:可以请求提示或显示完整解答。</translation>
    </message>
    <message>
        <location filename="../../desktop/cards/stages.py" line="60"/>
        <source>What the problem really asks, in one sentence.</source>
        <translation>题目真正要问的是什么,用一句话说。</translation>
    </message>
</context>
<context>
    <name>ThreadsBox</name>
    <message>
        <location filename="../../desktop/settings.py" line="200"/>
        <source>Automatic</source>
        <translation>自动</translation>
    </message>
    <message>
        <location filename="../../desktop/settings.py" line="203"/>
        <source>Automatic uses the cores that are idle when you press Solve. More threads than idle cores make a solve much slower.</source>
        <translation>自动:按下解题时使用空闲的 CPU 核心。线程数多于空闲核心会使解题慢很多。</translation>
    </message>
    <message>
        <location filename="../../desktop/settings.py" line="206"/>
        <source>CPU threads</source>
        <translation>CPU 线程</translation>
    </message>
</context>
<context>
    <name>Tutor</name>
    <message>
        <location filename="../../desktop/presenters.py" line="48"/>
        <source>The program ran and computed answer = {0}.</source>
        <translation>程序运行完毕,算出 answer = {0}。</translation>
    </message>
    <message>
        <location filename="../../desktop/presenters.py" line="50"/>
        <source>The program ran but never set answer; its last result, {0} = {1}, is taken as the answer.</source>
        <translation>程序运行了，但没有设置 answer；取其最后的结果 {0} = {1} 作为答案。</translation>
    </message>
    <message>
        <location filename="../../desktop/presenters.py" line="55"/>
        <source>It printed: {0}</source>
        <translation>它输出了:{0}</translation>
    </message>
    <message>
        <location filename="../../desktop/presenters.py" line="59"/>
        <source>The program ran, but its answer is not a number: {0}</source>
        <translation>程序运行了,但它的答案不是数字:{0}</translation>
    </message>
    <message>
        <location filename="../../desktop/presenters.py" line="66"/>
        <source>The program is not valid Python, so it could not run.</source>
        <translation>程序不是合法的 Python 代码,无法运行。</translation>
    </message>
    <message>
        <location filename="../../desktop/presenters.py" line="69"/>
        <source>The program tried to do something the tutor does not allow (files, network or imports).</source>
        <translation>程序试图做辅导程序不允许的事情(文件、网络或导入模块)。</translation>
    </message>
    <message>
        <location filename="../../desktop/presenters.py" line="72"/>
        <source>The program ran too long and was stopped.</source>
        <translation>程序运行时间过长,已被停止。</translation>
    </message>
    <message>
        <location filename="../../desktop/presenters.py" line="73"/>
        <source>The program used too much memory and was stopped.</source>
        <translation>程序占用内存过多,已被停止。</translation>
    </message>
    <message>
        <location filename="../../desktop/presenters.py" line="74"/>
        <source>The program stopped with an error while running.</source>
        <translation>程序运行时出错停止。</translation>
    </message>
    <message>
        <location filename="../../desktop/presenters.py" line="75"/>
        <source>The program ran but did not set a number called answer.</source>
        <translation>程序运行了,但没有给名为 answer 的变量赋一个数字。</translation>
    </message>
    <message>
        <location filename="../../desktop/presenters.py" line="116"/>
        <source>The solution shown is {0}&apos;s. The first model, {1}, answered {2}.</source>
        <translation>显示的是 {0} 的解答。第一个模型 {1} 的答案是 {2}。</translation>
    </message>
    <message>
        <location filename="../../desktop/presenters.py" line="124"/>
        <source>{0} of {1} solutions give this answer.</source>
        <translation>{1} 个解答中有 {0} 个得出这个答案。</translation>
    </message>
    <message>
        <location filename="../../desktop/presenters.py" line="193"/>
        <source>(from the problem)</source>
        <translation>(题目给出)</translation>
    </message>
    <message>
        <location filename="../../desktop/presenters.py" line="227"/>
        <source>{0} line(s) of the program are not needed for the answer and are left out: see Program.</source>
        <translation>程序中有 {0} 行与答案无关,这里略去了:可在“程序”中查看。</translation>
    </message>
    <message>
        <location filename="../../desktop/presenters.py" line="288"/>
        <source>Correct: {0} matches the tutor&apos;s checked answer.</source>
        <translation>正确:{0} 与辅导程序已核对的答案一致。</translation>
    </message>
    <message>
        <location filename="../../desktop/presenters.py" line="290"/>
        <source>{0} matches the tutor&apos;s answer, but the tutor is not sure of it: go through the steps to be sure.</source>
        <translation>{0} 与辅导程序的答案一致,但辅导程序对这个答案没有把握:请逐步检查以确认。</translation>
    </message>
    <message>
        <location filename="../../desktop/presenters.py" line="298"/>
        <source>{0} differs from the tutor&apos;s answer, {1}, which was checked. The tutor can be wrong too: compare your work with its key information and solution.</source>
        <translation>{0} 与辅导程序已核对的答案 {1} 不同。辅导程序也可能出错:请把你的解题过程与它的关键信息和解答对照一下。</translation>
    </message>
    <message>
        <location filename="../../desktop/presenters.py" line="304"/>
        <source>{0} differs from the tutor&apos;s answer, {1}, but the tutor is not sure of its answer: yours may be the right one. Compare your work with its steps.</source>
        <translation>{0} 与辅导程序的答案 {1} 不同,但辅导程序对自己的答案没有把握:你的答案可能才是对的。请把你的解题过程与它的步骤对照一下。</translation>
    </message>
    <message>
        <location filename="../../desktop/presenters.py" line="316"/>
        <source>{0} is not what the tutor found, but the tutor is not sure of its own answer: yours may be right. Ask for a hint to compare the steps.</source>
        <translation>{0} 与辅导程序的答案不同,但辅导程序对自己的答案没有把握:你的答案可能是对的。请求提示来对照步骤。</translation>
    </message>
    <message>
        <location filename="../../desktop/presenters.py" line="100"/>
        <source>The program and the steps disagree. The program worked out this answer on the way, then went a step further, so the steps&apos; answer is shown: double-check this one.</source>
        <translation>程序和步骤的答案不一致。程序在中途算出了这个答案,却又多算了一步,所以这里显示步骤的答案:请再检查一下。</translation>
    </message>
    <message>
        <location filename="../../desktop/presenters.py" line="108"/>
        <source>The first answer looked wrong, so {0} solutions were written to vote on.</source>
        <translation>第一个答案看起来不对,所以写了 {0} 个解答来投票。</translation>
    </message>
    <message>
        <location filename="../../desktop/presenters.py" line="130"/>
        <source>Another answer had more votes, but they looked wrong for a word problem (negative, not whole, or from a program using numbers the problem does not give), so they counted less.</source>
        <translation>另一个答案票数更多,但那些解答看起来不像应用题的答案(负数、不是整数,或程序用了题目中没有的数),所以权重较低。</translation>
    </message>
    <message>
        <location filename="../../desktop/presenters.py" line="276"/>
        <source>I could not find a number in your answer.</source>
        <translation>在你的答案里没有找到数字。</translation>
    </message>
    <message>
        <location filename="../../desktop/presenters.py" line="281"/>
        <source>The tutor has no answer of its own for this problem yet, so it cannot check yours.</source>
        <translation>辅导程序自己还没有这道题的答案,所以无法检查你的答案。</translation>
    </message>
    <message>
        <location filename="../../desktop/presenters.py" line="311"/>
        <source>Not quite: {0} is not what the tutor found. Try again, or ask for a hint (the tutor can be wrong too).</source>
        <translation>不太对:{0} 与辅导程序的答案不同。再试一次,或者请求提示(辅导程序也可能出错)。</translation>
    </message>
</context>
<context>
    <name>Verdict</name>
    <message>
        <location filename="../../kpdd/verdict.py" line="96"/>
        <source>Checked</source>
        <translation>已核对</translation>
    </message>
    <message>
        <location filename="../../kpdd/verdict.py" line="97"/>
        <source>Not sure</source>
        <translation>没有把握</translation>
    </message>
    <message>
        <location filename="../../kpdd/verdict.py" line="98"/>
        <source>No answer</source>
        <translation>没有答案</translation>
    </message>
    <message>
        <location filename="../../kpdd/verdict.py" line="102"/>
        <source>checked</source>
        <translation>已核对</translation>
    </message>
    <message>
        <location filename="../../kpdd/verdict.py" line="103"/>
        <source>check this one</source>
        <translation>请核对</translation>
    </message>
    <message>
        <location filename="../../kpdd/verdict.py" line="104"/>
        <source>no answer</source>
        <translation>没有答案</translation>
    </message>
    <message>
        <location filename="../../kpdd/verdict.py" line="107"/>
        <source>Work through it with the hints, or solve it in Both mode to have it checked.</source>
        <translation>请借助提示一步步做,或用“两者”模式解题来核对。</translation>
    </message>
    <message>
        <location filename="../../kpdd/verdict.py" line="110"/>
        <source>Work through it with the hints and check each step yourself.</source>
        <translation>请借助提示一步步做,并自己检查每一步。</translation>
    </message>
    <message>
        <location filename="../../kpdd/verdict.py" line="114"/>
        <source>Read the problem again; if it is written as you meant it, work through it with the hints.</source>
        <translation>请再读一遍题目;如果题目和你想的一样,就用提示一步步做。</translation>
    </message>
    <message>
        <location filename="../../kpdd/verdict.py" line="118"/>
        <source>{0} of {1} solutions give this answer.</source>
        <translation>{1} 个解答中有 {0} 个得出这个答案。</translation>
    </message>
    <message>
        <location filename="../../kpdd/verdict.py" line="119"/>
        <source>The program and the worked steps give the same answer.</source>
        <translation>程序和解题步骤得出相同的答案。</translation>
    </message>
    <message>
        <location filename="../../kpdd/verdict.py" line="120"/>
        <source>A second model, {0}, gives the same answer.</source>
        <translation>第二个模型 {0} 得出相同的答案。</translation>
    </message>
    <message>
        <location filename="../../kpdd/verdict.py" line="121"/>
        <source>The program ran and set its answer.</source>
        <translation>程序运行完毕并给出了答案。</translation>
    </message>
    <message>
        <location filename="../../kpdd/verdict.py" line="122"/>
        <source>Every calculation in the steps is right.</source>
        <translation>步骤中的每一步计算都正确。</translation>
    </message>
    <message>
        <location filename="../../kpdd/verdict.py" line="123"/>
        <source>Only one solution was written, so nothing checked it.</source>
        <translation>只写了一个解答,没有任何东西核对过它。</translation>
    </message>
    <message>
        <location filename="../../kpdd/verdict.py" line="124"/>
        <source>Only {0} of {1} solutions give this answer.</source>
        <translation>{1} 个解答中只有 {0} 个得出这个答案。</translation>
    </message>
    <message>
        <location filename="../../kpdd/verdict.py" line="125"/>
        <source>The program and the worked steps give different answers.</source>
        <translation>程序和解题步骤得出的答案不同。</translation>
    </message>
    <message>
        <location filename="../../kpdd/verdict.py" line="126"/>
        <source>The program did not run to an answer, so nothing checked the worked steps.</source>
        <translation>程序没有运行出答案,所以没有任何东西核对过解题步骤。</translation>
    </message>
    <message>
        <location filename="../../kpdd/verdict.py" line="129"/>
        <source>The worked steps reach no answer, so nothing checked the program.</source>
        <translation>解题步骤没有得出答案,所以没有任何东西核对过程序。</translation>
    </message>
    <message>
        <location filename="../../kpdd/verdict.py" line="130"/>
        <source>A second model, {0}, gives a different answer.</source>
        <translation>第二个模型 {0} 得出不同的答案。</translation>
    </message>
    <message>
        <location filename="../../kpdd/verdict.py" line="131"/>
        <source>A second model, {0}, gives the same answer, but the first solution looked wrong for a word problem, so their agreement does not make it checked.</source>
        <translation>第二个模型 {0} 得出相同的答案,但第一个解答看起来不像应用题的答案,所以两者一致也不算已核对。</translation>
    </message>
    <message>
        <location filename="../../kpdd/verdict.py" line="134"/>
        <source>This is the answer of a second model, {0}; the first model&apos;s answer is different.</source>
        <translation>这是第二个模型 {0} 的答案;第一个模型的答案与之不同。</translation>
    </message>
    <message>
        <location filename="../../kpdd/verdict.py" line="137"/>
        <source>The answer is negative, which a word problem&apos;s answer almost never is.</source>
        <translation>答案是负数,而应用题的答案几乎从来不是负数。</translation>
    </message>
    <message>
        <location filename="../../kpdd/verdict.py" line="138"/>
        <source>Every solution gives a negative number, which this problem&apos;s answer cannot be: the problem may be wrong as written (its numbers may not fit together), or the tutor could not solve it.</source>
        <translation>每个解答都得出负数,而这道题的答案不可能是负数:可能是题目本身写错了(数字对不上),也可能是导师没能解出这道题。</translation>
    </message>
    <message>
        <location filename="../../kpdd/verdict.py" line="141"/>
        <source>Every solution gives part of something the question counts in whole ones: the problem may be wrong as written (its numbers may not fit together), or the tutor could not solve it.</source>
        <translation>每个解答得出的都不是整数,而问题问的是按整个来数的东西:可能是题目本身写错了(数字对不上),也可能是导师没能解出这道题。</translation>
    </message>
    <message>
        <location filename="../../kpdd/verdict.py" line="144"/>
        <source>The answer is not a whole number, but the question counts whole things.</source>
        <translation>答案不是整数,但题目问的是可以逐个数的东西。</translation>
    </message>
    <message>
        <location filename="../../kpdd/verdict.py" line="147"/>
        <source>The answer is not a whole number.</source>
        <translation>答案不是整数。</translation>
    </message>
    <message>
        <location filename="../../kpdd/verdict.py" line="148"/>
        <source>The program uses {0}, a number the problem does not give.</source>
        <translation>程序用到了 {0},而题目中没有这个数。</translation>
    </message>
    <message>
        <location filename="../../kpdd/verdict.py" line="149"/>
        <source>The program uses {0} and then takes it back out: the answer does not depend on it.</source>
        <translation>程序用了 {0},随后又把它抵消了:答案并不取决于它。</translation>
    </message>
    <message>
        <location filename="../../kpdd/verdict.py" line="152"/>
        <source>The program never said which value is the answer; its last result, {0}, was taken.</source>
        <translation>程序没有说明哪个值是答案;这里取了它最后的结果 {0}。</translation>
    </message>
    <message>
        <location filename="../../kpdd/verdict.py" line="155"/>
        <source>A step gets its arithmetic wrong: {0} is {1}, not {2}.</source>
        <translation>有一步算错了:{0} 等于 {1},不是 {2}。</translation>
    </message>
    <message>
        <location filename="../../kpdd/verdict.py" line="156"/>
        <source>Solving was stopped before it found an answer.</source>
        <translation>在找到答案之前已停止解题。</translation>
    </message>
    <message>
        <location filename="../../kpdd/verdict.py" line="157"/>
        <source>The model stopped with an error: {0}</source>
        <translation>模型出错停止:{0}</translation>
    </message>
    <message>
        <location filename="../../kpdd/verdict.py" line="158"/>
        <source>The model did not produce a usable answer.</source>
        <translation>模型没有给出可用的答案。</translation>
    </message>
</context>
</TS>
