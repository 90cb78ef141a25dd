// Loaded last by scripts/jshell when it runs example files: ends the session once they ran. The examples
// themselves do not /exit, so that /open examples/... in an interactive session keeps the session.
/exit
