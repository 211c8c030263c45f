from netverify.cli.app import main

main()
