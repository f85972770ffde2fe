@echo off
rem One entry point for a fresh Windows 10/11 machine (cmd or PowerShell):
rem   his app    install Python (winget, if missing) and the project into .venv, then start desktop_his
rem   his test   same, with the test tools, then run the whole test suite
rem   his cli …  run desktop-his-cli inside the project's virtual environment
setlocal
cd /d "%~dp0"
where py >nul 2>nul
if errorlevel 1 (
  echo ^>^> installing Python 3.11 with winget (any Python 3.11–3.13 already installed is used as is)
  winget install -e --id Python.Python.3.11 --accept-package-agreements --accept-source-agreements || exit /b 1
  set "PATH=%LOCALAPPDATA%\Programs\Python\Launcher;%PATH%"
)
if not exist .venv\Scripts\python.exe py -3 -m venv .venv || exit /b 1
set "CMD=%~1"
if "%CMD%"=="" set "CMD=app"
shift
set "EXTRAS=runtime"
if /i "%CMD%"=="test" set "EXTRAS=test"
if not exist ".venv\.installed-%EXTRAS%" (
  .venv\Scripts\python -m pip install -q --upgrade pip || exit /b 1
  .venv\Scripts\python -m pip install -q -e ".[%EXTRAS%]" || exit /b 1
  echo done> ".venv\.installed-%EXTRAS%"
)
if /i "%CMD%"=="app" ( start "" .venv\Scripts\desktop-his.exe %1 %2 %3 & exit /b 0 )
if /i "%CMD%"=="test" ( set "QT_QPA_PLATFORM=offscreen" & .venv\Scripts\python -m pytest %1 %2 %3 & exit /b %errorlevel% )
if /i "%CMD%"=="cli" ( .venv\Scripts\desktop-his-cli %1 %2 %3 %4 %5 %6 & exit /b %errorlevel% )
echo usage: his app ^| test ^| cli ...
exit /b 2
