; Inno Setup 6 script for KPDD Tutor on Windows. NOT TRIED: written on Linux, where neither the
; Windows build nor Inno Setup can run. Steps on a Windows machine, from the repository root:
;
;   py -3.11 -m venv .venv
;   .venv\Scripts\pip install -e .[desktop] pyinstaller==6.22.3
;     (llama-cpp-python: set CMAKE_ARGS=-DGGML_NATIVE=OFF before installing, as on Linux)
;   .venv\Scripts\kpdd setup
;   .venv\Scripts\python packaging\gather_licenses.py build\licenses --llama-sdist <llama_cpp_python sdist>
;   .venv\Scripts\pyinstaller --noconfirm --distpath dist --workpath build\pyinstaller packaging\kpdd-tutor.spec
;   dist\kpdd-tutor\kpdd-tutor.exe --self-test --json selftest.json   (windowed app: the report goes to the file)
;   iscc /DAppVersion=0.1.0 packaging\windows\kpdd-tutor.iss
;
; -> dist\kpdd-tutor-0.1.0-windows-setup.exe: a per-user install (no administrator rights needed) with
;    a Start-menu entry, an optional desktop icon and an uninstaller. Needs a resources\icons\kpdd-tutor.ico
;    for the setup's own icon (convert the PNG; the app window uses the SVG).

#ifndef AppVersion
  #define AppVersion "0.1.0"
#endif
#define AppName "KPDD Tutor"
#define AppExe "kpdd-tutor.exe"
; Paths are relative to this script's folder (packaging\windows): the repository root is two up.
#define Root "..\.."
#define Dist Root + "\dist\kpdd-tutor"

[Setup]
AppId={{6E0F3C52-9B5A-4E57-A0C6-0C7F1D2B9A11}
AppName={#AppName}
AppVersion={#AppVersion}
AppVerName={#AppName} {#AppVersion}
AppPublisher=KPDD Tutor contributors
DefaultDirName={autopf}\KPDD Tutor
DefaultGroupName={#AppName}
DisableProgramGroupPage=yes
; Per-user by default; the user may choose an all-users install in the dialog.
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=dialog
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
OutputDir={#Root}\dist
OutputBaseFilename=kpdd-tutor-{#AppVersion}-windows-setup
Compression=lzma2/max
SolidCompression=yes
WizardStyle=modern
LicenseFile={#Root}\LICENSE
UninstallDisplayIcon={app}\{#AppExe}
#if FileExists(SourcePath + "..\..\resources\icons\kpdd-tutor.ico")
SetupIconFile={#Root}\resources\icons\kpdd-tutor.ico
#endif

[Languages]
Name: "english"; MessagesFile: "compiler:Default.isl"
Name: "chinesesimplified"; MessagesFile: "compiler:Languages\ChineseSimplified.isl"

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked

[Files]
; The whole one-folder app, the default model and license texts included (they are in _internal).
Source: "{#Dist}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[InstallDelete]
; An update replaces the bundle as a whole: no stale libraries from an older version.
Type: filesandordirs; Name: "{app}\_internal"

[Icons]
Name: "{group}\{#AppName}"; Filename: "{app}\{#AppExe}"
Name: "{group}\Licenses"; Filename: "{app}\_internal\licenses\THIRD-PARTY-NOTICES.txt"
Name: "{group}\{cm:UninstallProgram,{#AppName}}"; Filename: "{uninstallexe}"
Name: "{autodesktop}\{#AppName}"; Filename: "{app}\{#AppExe}"; Tasks: desktopicon

[Run]
Filename: "{app}\{#AppExe}"; Description: "{cm:LaunchProgram,{#AppName}}"; Flags: nowait postinstall skipifsilent

; The user's history, settings and added models live in %LOCALAPPDATA%\kpdd-tutor and are kept on uninstall.
