from netverify.cli import main

main()
