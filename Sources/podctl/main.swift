import PodCtlKit

Podctl.main()
