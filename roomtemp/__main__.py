from roomtemp.cli.main import main

main()
